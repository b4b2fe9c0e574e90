#include "RedoLog.h"

#include <Poco/Checksum.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerchat {

namespace {

// A record's frame: payload length (4 bytes), CRC-32 of seq and payload (4),
// seq (8), all little-endian, then the payload.
constexpr std::size_t kHeader = 16;
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

// The CRC covers the seq and the payload, which follow each other in a frame.
std::uint32_t crcOf(const char* seqAndPayload, std::size_t payloadSize)
{
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

RedoLog::RedoLog(std::string path) : _path(std::move(path))
{
    _fd = ::open(_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (_fd < 0) fail("open", _path);
    try {
        recover();
    } catch (...) {
        ::close(_fd);
        throw;
    }
}

RedoLog::~RedoLog()
{
    unmap();
    // What was allocated ahead goes back; a failure leaves zeros, which the next open cuts off.
    [[maybe_unused]] const int cut = ::ftruncate(_fd, static_cast<off_t>(_end));
    ::close(_fd);
}

void RedoLog::recover()
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
        const auto length = static_cast<std::uint32_t>(getLittle(content.data() + at, 4));
        if (length > kMaxPayload || content.size() - at - kHeader < length) break;
        if (crcOf(content.data() + at + 8, length) != getLittle(content.data() + at + 4, 4)) break;
        _recovered.push_back(Record{getLittle(content.data() + at + 8, 8), content.substr(at + kHeader, length)});
        at += kHeader + length;
    }
    _end = at;
    // A torn or damaged tail is cut off, so that the next record follows the last intact one.
    if (_end != content.size() && ::ftruncate(_fd, static_cast<off_t>(_end)) != 0) fail("repair", _path);
    _allocated = _end;
}

void RedoLog::append(std::uint64_t seq, std::string_view payload)
{
    const std::uint64_t frame = kHeader + payload.size();
    if (_map == nullptr || _end + frame > _mapFrom + _mapped) map(_end + frame);
    char* at = _map + (_end - _mapFrom);
    putLittle(at, payload.size(), 4);
    putLittle(at + 8, seq, 8);
    std::memcpy(at + kHeader, payload.data(), payload.size());
    putLittle(at + 4, crcOf(at + 8, payload.size()), 4);
    _end += frame;
}

void RedoLog::reserve(std::uint64_t bytes)
{
    allocate(_end + bytes);
}

void RedoLog::allocate(std::uint64_t end)
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

void RedoLog::map(std::uint64_t end)
{
    static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t from = _end / page * page;
    const std::uint64_t size = std::max(kChunk, (end - from + page - 1) / page * page);
    allocate(from + size);
    unmap();
    void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, _fd, static_cast<off_t>(from));
    if (map == MAP_FAILED) fail("map", _path);
    _map = static_cast<char*>(map);
    _mapFrom = from;
    _mapped = size;
}

void RedoLog::unmap()
{
    if (_map != nullptr) ::munmap(_map, _mapped);
    _map = nullptr;
    _mapped = 0;
}

void RedoLog::clear()
{
    unmap();
    if (::ftruncate(_fd, 0) != 0) fail("empty", _path);
    _end = 0;
    _allocated = 0;
}

} // namespace peerchat
