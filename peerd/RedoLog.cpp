#include "RedoLog.h"

#include <Poco/Checksum.h>
#include <Poco/Exception.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerchat {

namespace {

// A record's frame: payload length (4 bytes), CRC-32 of seq and payload (4),
// seq (8), all little-endian, then the payload.
constexpr std::size_t kHeader = 16;
// No record comes near this; a larger length is damage, not a record.
constexpr std::uint32_t kMaxPayload = 64u << 20;

void putLittle(std::string& out, std::uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t getLittle(const char* in, int bytes)
{
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    return value;
}

std::uint32_t crcOf(std::string_view seq, std::string_view payload)
{
    Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
    crc.update(seq.data(), static_cast<unsigned>(seq.size()));
    crc.update(payload.data(), static_cast<unsigned>(payload.size()));
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
        const std::string_view seq(content.data() + at + 8, 8);
        const std::string_view payload(content.data() + at + kHeader, length);
        if (crcOf(seq, payload) != getLittle(content.data() + at + 4, 4)) break;
        _recovered.push_back(Record{getLittle(seq.data(), 8), std::string(payload)});
        at += kHeader + length;
    }
    _end = at;
    // A torn or damaged tail is cut off, so that the next record follows the last intact one.
    if (_end != content.size() && ::ftruncate(_fd, static_cast<off_t>(_end)) != 0) fail("repair", _path);
}

void RedoLog::append(std::uint64_t seq, std::string_view payload)
{
    std::string frame;
    frame.reserve(kHeader + payload.size());
    putLittle(frame, payload.size(), 4);
    std::string seqBytes;
    putLittle(seqBytes, seq, 8);
    putLittle(frame, crcOf(seqBytes, payload), 4);
    frame += seqBytes;
    frame += payload;
    std::size_t written = 0;
    while (written < frame.size()) {
        const ssize_t n = ::pwrite(_fd, frame.data() + written, frame.size() - written,
                                   static_cast<off_t>(_end + written));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            // Nothing half-written stays behind the last intact record (and if
            // this fails too, the next append writes over it).
            [[maybe_unused]] const int cut = ::ftruncate(_fd, static_cast<off_t>(_end));
            errno = error;
            fail("write to", _path);
        }
        written += static_cast<std::size_t>(n);
    }
    _end += frame.size();
}

void RedoLog::reserve(std::uint64_t bytes)
{
    if (::fallocate(_fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(_end), static_cast<off_t>(bytes)) == 0) return;
    // A file system that cannot allocate ahead answers at the next append instead.
    if (errno == EOPNOTSUPP) return;
    fail("make room in", _path);
}

void RedoLog::clear()
{
    if (::ftruncate(_fd, 0) != 0) fail("empty", _path);
    _end = 0;
}

} // namespace peerchat
