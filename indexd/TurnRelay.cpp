#include "TurnRelay.h"

#include "TurnCredentials.h"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerchat {

namespace {

constexpr std::uint64_t kTtlSeconds = std::chrono::seconds(TurnRelay::kTtl).count();

// What a person is told to do about a secret file that cannot be used.
std::string fixOf(const std::string& path)
{
    return "put the TURN server's static-auth-secret in it, alone on one line, and run chmod 600 " + path;
}

// Reads up to size bytes of fd into buffer; how many it read.
std::size_t readUpTo(int fd, char* buffer, std::size_t size, const std::string& path)
{
    std::size_t done = 0;
    while (done < size) {
        const ssize_t got = ::read(fd, buffer + done, size - done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            throw Poco::ReadFileException("cannot read the TURN secret file " + path + ": " + std::strerror(errno));
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
    }
    return done;
}

} // namespace

TurnRelay::TurnRelay(Endpoint server, LockedSecret<Secret> secret)
    : _server(std::move(server)), _secret(std::move(secret))
{
}

TurnRelay TurnRelay::open(const std::string& host, std::uint16_t port, const std::string& secretFile)
{
    Endpoint server;
    try {
        // SocketAddress resolves a name to its first IPv4 address, else its first IPv6 one.
        server = Endpoint(Poco::Net::SocketAddress(host, port));
    } catch (const Poco::Exception& e) {
        throw Poco::Net::HostNotFoundException("cannot resolve the TURN server " + host + " (--turn): "
                                               + e.displayText() + "; check the name, or give its IP address");
    }
    return TurnRelay(server, readSecret(secretFile));
}

LockedSecret<TurnRelay::Secret> TurnRelay::readSecret(const std::string& path)
{
    // O_NONBLOCK: a FIFO in the file's place must be refused, not waited on.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        throw Poco::FileAccessDeniedException("cannot read the TURN secret file " + path + " (--turn-secret-file): "
                                              + std::strerror(errno) + "; " + fixOf(path));
    struct Closer
    {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        throw Poco::FileAccessDeniedException("the TURN secret file " + path + " is not a regular file; " + fixOf(path));
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        throw Poco::FileAccessDeniedException("the TURN secret file " + path
                                              + " can be read or written by other users, who could then make relay "
                                                "credentials of their own; run chmod 600 "
                                              + path);
    // Two bytes more than a secret may have: room for its line break, and one to see a longer file.
    LockedSecret<std::array<char, kMaxSecretBytes + 2>> text;
    std::size_t size = readUpTo(fd, text->data(), text->size(), path);
    if (size > 0 && (*text)[size - 1] == '\n') --size;
    if (size > 0 && (*text)[size - 1] == '\r') --size;
    if (size == 0) throw Poco::DataFormatException("the TURN secret file " + path + " is empty; " + fixOf(path));
    if (size > kMaxSecretBytes)
        throw Poco::DataFormatException("the TURN secret file " + path + " holds more than "
                                        + std::to_string(kMaxSecretBytes) + " bytes; " + fixOf(path));
    // coturn's static-auth-secret is one line of its configuration: a file of
    // more lines is not the secret (a wrong path, or a configuration file).
    if (std::memchr(text->data(), '\n', size) || std::memchr(text->data(), '\r', size))
        throw Poco::DataFormatException("the TURN secret file " + path + " holds more than one line; " + fixOf(path));
    LockedSecret<Secret> secret;
    std::memcpy(secret->bytes.data(), text->data(), size);
    secret->size = size;
    return secret;
}

Turn TurnRelay::grant(const std::string& name, std::uint64_t now) const
{
    const std::uint64_t expiry = now + kTtlSeconds;
    return Turn{_server, expiry, TurnCredentials::key(secret(), name, expiry)};
}

bool TurnRelay::isHalfSpent(std::uint64_t expiry, std::uint64_t now)
{
    return expiry < now + kTtlSeconds / 2;
}

std::string_view TurnRelay::secret() const
{
    return std::string_view(_secret->bytes.data(), _secret->size);
}

} // namespace peerchat
