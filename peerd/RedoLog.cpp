#include "RedoLog.h"

#include "Crc32c.h"

#include <Poco/Checksum.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <iterator>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerchat {

namespace {

// A record's frame: payload length (4 bytes), check of seq and payload (4),
// seq (8), all little-endian, then the payload. The length's top bit set
// says the check is a CRC-32C; clear (a record of a peerd before it) a
// zlib CRC-32.
constexpr std::size_t kHeader = 16;
constexpr std::uint32_t kCastagnoli = 0x80000000u;
// No record comes near this; a larger length is damage, not a record.
constexpr std::uint32_t kMaxPayload = 64u << 20;

void putLittle(char* out, std::uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

std::uint64_t getLittle(const char* in, int bytes)
{
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    return value;
}

// The check covers the seq and the payload, which follow each other in a frame.
std::uint32_t checkOf(const char* seqAndPayload, std::size_t payloadSize, bool castagnoli)
{
    if (castagnoli) return crc32c(seqAndPayload, 8 + payloadSize);
    Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
    crc.update(seqAndPayload, static_cast<unsigned>(8 + payloadSize));
    return crc.checksum();
}

[[noreturn]] void fail(const std::string& what, const std::string& path)
{
    const int error = errno;
    throw Poco::IOException("cannot " + what + " " + path + ": " + std::strerror(error), error);
}

} // namespace

// One of the log's two files.
class RedoLog::File
{
public:
    /// Opens (creating it) the file at path and appends the records it holds to records.
    File(std::string path, std::vector<Record>& records);
    ~File();
    File(const File&) = delete;
    File& operator=(const File&) = delete;

    void append(std::uint64_t seq, std::string_view payload);
    /// Allocates the file up to at least end (a whole number of chunks past what it had).
    void allocate(std::uint64_t end);
    /// Empties the file for its next round, keeping its pages and its mapping.
    void startOver();
    /// Empties the file and gives its room back.
    void clear();

    std::uint64_t size() const { return _end; }
    /// Big enough to start over, and every record in it has a seq of at most applied.
    bool releasable(std::uint64_t applied) const { return _end >= kTurnAt && _lastSeq <= applied; }
    std::uint64_t lastSeq() const { return _lastSeq; }

private:
    void recover(std::vector<Record>& records);
    /// Maps the file so that [_end, end) is mapped.
    void map(std::uint64_t end);
    void unmap();

    std::string _path;
    int _fd = -1;
    char* _map = nullptr;        ///< the file from _mapFrom on, _mapped bytes of it
    std::uint64_t _mapFrom = 0;
    std::uint64_t _mapped = 0;
    std::uint64_t _allocated = 0;  ///< how long the file is: records, then what was allocated ahead
    std::uint64_t _end = 0;        ///< where the next record goes: the end of the last intact one
    std::uint64_t _lastSeq = 0;    ///< the seq of the last record, 0 when it holds none
};

RedoLog::File::File(std::string path, std::vector<Record>& records) : _path(std::move(path))
{
    _fd = ::open(_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (_fd < 0) fail("open", _path);
    try {
        recover(records);
    } catch (...) {
        ::close(_fd);
        throw;
    }
}

RedoLog::File::~File()
{
    unmap();
    // What was allocated ahead, and an earlier round's records, go; a failure
    // leaves them after the records, where the next open cuts them off.
    [[maybe_unused]] const int cut = ::ftruncate(_fd, static_cast<off_t>(_end));
    ::close(_fd);
}

void RedoLog::File::recover(std::vector<Record>& records)
{
    struct stat status {};
    if (::fstat(_fd, &status) != 0) fail("read", _path);
    std::string content(static_cast<std::size_t>(status.st_size), '\0');
    std::size_t have = 0;
    while (have < content.size()) {
        const ssize_t n = ::pread(_fd, content.data() + have, content.size() - have, static_cast<off_t>(have));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("read", _path);
        if (n == 0) break;
        have += static_cast<std::size_t>(n);
    }
    content.resize(have);
    std::size_t at = 0;
    while (content.size() - at >= kHeader) {
        const auto field = static_cast<std::uint32_t>(getLittle(content.data() + at, 4));
        const bool castagnoli = (field & kCastagnoli) != 0;
        const std::uint32_t length = field & ~kCastagnoli;
        if (length > kMaxPayload || content.size() - at - kHeader < length) break;
        if (checkOf(content.data() + at + 8, length, castagnoli) != getLittle(content.data() + at + 4, 4)) break;
        const std::uint64_t seq = getLittle(content.data() + at + 8, 8);
        // An earlier round's record: the records of this round end before it.
        if (at != 0 && seq != _lastSeq + 1) break;
        records.push_back(Record{seq, content.substr(at + kHeader, length)});
        _lastSeq = seq;
        at += kHeader + length;
    }
    _end = at;
    // What follows the last record is cut off, so that the next record follows it.
    if (_end != content.size() && ::ftruncate(_fd, static_cast<off_t>(_end)) != 0) fail("repair", _path);
    _allocated = _end;
}

void RedoLog::File::append(std::uint64_t seq, std::string_view payload)
{
    const std::uint64_t frame = kHeader + payload.size();
    if (_end + frame > _allocated) allocate(_end + frame);
    if (_map == nullptr || _end < _mapFrom || _end + frame > _mapFrom + _mapped) map(_end + frame);
    char* at = _map + (_end - _mapFrom);
    putLittle(at, payload.size() | kCastagnoli, 4);
    putLittle(at + 8, seq, 8);
    std::memcpy(at + kHeader, payload.data(), payload.size());
    putLittle(at + 4, checkOf(at + 8, payload.size(), true), 4);
    _end += frame;
    _lastSeq = seq;
}

void RedoLog::File::allocate(std::uint64_t end)
{
    if (end <= _allocated) return;
    const std::uint64_t size = _allocated + (end - _allocated + kChunk - 1) / kChunk * kChunk;
    // Allocated, not only made longer: a store into a hole of the mapping that
    // the disk has no room for would kill the process (SIGBUS).
    const int error = ::posix_fallocate(_fd, static_cast<off_t>(_allocated), static_cast<off_t>(size - _allocated));
    if (error != 0) {
        errno = error;
        fail("write to", _path);
    }
    _allocated = size;
}

void RedoLog::File::map(std::uint64_t end)
{
    static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    // The first kMostKept bytes in one mapping, made once (past the end of the
    // file too: only what is allocated is ever stored into); past them, the
    // part from the page of _end on.
    const std::uint64_t from = end <= kMostKept ? 0 : _end / page * page;
    const std::uint64_t size = from == 0 ? std::max(kMostKept, end) : std::max(kChunk, (end - from + page - 1) / page * page);
    unmap();
    void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, _fd, static_cast<off_t>(from));
    if (map == MAP_FAILED) fail("map", _path);
    _map = static_cast<char*>(map);
    _mapFrom = from;
    _mapped = size;
}

void RedoLog::File::unmap()
{
    if (_map != nullptr) ::munmap(_map, _mapped);
    _map = nullptr;
    _mapped = 0;
}

void RedoLog::File::startOver()
{
    // A file that grew past what stays mapped gives its room back instead.
    if (_allocated > kMostKept) {
        clear();
        return;
    }
    _end = 0;
    _lastSeq = 0;
}

void RedoLog::File::clear()
{
    unmap();
    if (::ftruncate(_fd, 0) != 0) fail("empty", _path);
    _end = 0;
    _allocated = 0;
    _lastSeq = 0;
}

RedoLog::RedoLog(std::string path) : _path(std::move(path))
{
    std::vector<Record> second;
    _files[0] = std::make_unique<File>(_path, _recovered);
    _files[1] = std::make_unique<File>(_path + "2", second);
    if (_files[1]->lastSeq() > _files[0]->lastSeq()) _taking = 1;
    _recovered.insert(_recovered.end(), std::make_move_iterator(second.begin()),
                      std::make_move_iterator(second.end()));
    std::stable_sort(_recovered.begin(), _recovered.end(),
                     [](const Record& a, const Record& b) { return a.seq < b.seq; });
}

RedoLog::~RedoLog() = default;

std::size_t RedoLog::next() const
{
    const std::size_t other = 1 - _taking;
    return _files[_taking]->size() >= kTurnAt && _files[other]->size() == 0 ? other : _taking;
}

void RedoLog::append(std::uint64_t seq, std::string_view payload)
{
    const std::size_t file = next();
    _files[file]->append(seq, payload);
    _taking = file;
}

void RedoLog::reserve(std::uint64_t bytes)
{
    File& file = *_files[next()];
    file.allocate(file.size() + bytes);
}

bool RedoLog::releases(std::uint64_t applied) const
{
    return std::any_of(std::begin(_files), std::end(_files),
                       [applied](const std::unique_ptr<File>& file) { return file->releasable(applied); });
}

void RedoLog::release(std::uint64_t applied)
{
    for (const std::unique_ptr<File>& file : _files) {
        if (file->releasable(applied)) file->startOver();
    }
}

void RedoLog::clear()
{
    for (const std::unique_ptr<File>& file : _files) file->clear();
}

std::uint64_t RedoLog::size() const
{
    return _files[0]->size() + _files[1]->size();
}

} // namespace peerchat
