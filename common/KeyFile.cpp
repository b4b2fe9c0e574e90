#include "KeyFile.h"

#include "Base64.h"

#include <Poco/Exception.h>
#include <Poco/Path.h>

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerchat {

namespace {

constexpr std::string_view kPrefix = "peerchat-ed25519 ";
// The prefix, 43 characters of base64 and the newline; anything longer is not a key file.
constexpr std::size_t kLineBytes = kPrefix.size() + 43 + 1;

std::string lastError()
{
    return std::strerror(errno);
}

std::string octal(mode_t mode)
{
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// Closes a descriptor when it goes out of scope.
class Descriptor
{
public:
    explicit Descriptor(int fd) : _fd(fd) {}
    ~Descriptor() { if (_fd >= 0) ::close(_fd); }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int get() const { return _fd; }

private:
    int _fd;
};

// The text of a key file, one byte more than a key line so that a longer file shows.
// It holds the seed in base64, so it lives in locked memory like the seed.
using KeyText = std::array<char, kLineBytes + 1>;

// Prints the key line of seed into text.
void printKeyLine(const KeySeed& seed, KeyText& text)
{
    std::copy(kPrefix.begin(), kPrefix.end(), text.begin());
    // sodium_bin2base64 ends the text with a NUL, where the newline then goes.
    sodium_bin2base64(text.data() + kPrefix.size(), text.size() - kPrefix.size(), seed.data(), seed.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    text[kLineBytes - 1] = '\n';
}

// Reads the seed of the key line in the first size bytes of text into seed;
// false unless they are exactly the line printKeyLine makes of it.
bool parseKeyLine(const KeyText& text, std::size_t size, KeySeed& seed)
{
    if (size != kLineBytes || std::string_view(text.data(), kPrefix.size()) != kPrefix) return false;
    const char* encoded = text.data() + kPrefix.size();
    const std::size_t encodedSize = kLineBytes - kPrefix.size() - 1;
    std::size_t decoded = 0;
    const char* end = nullptr;
    if (sodium_base642bin(seed.data(), seed.size(), encoded, encodedSize, nullptr, &decoded, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING)
            != 0
        || decoded != seed.size() || end != encoded + encodedSize)
        return false;
    // One spelling per seed (no stray trailing bits), as Base64::decode insists.
    LockedSecret<KeyText> canonical;
    printKeyLine(seed, *canonical);
    return sodium_memcmp(canonical->data(), text.data(), kLineBytes) == 0;
}

std::string parentOf(const std::string& path)
{
    const Poco::Path parent = Poco::Path(path).makeParent();
    const std::string dir = parent.toString();
    return dir.empty() ? "." : dir;
}

// Someone else who may write the directory could swap the key file for one of their own.
void refuseOpenDirectory(const std::string& dir)
{
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
        throw Poco::IOException("cannot use the key directory " + dir + ": " + lastError());
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0)
        throw Poco::FileAccessDeniedException("the key directory " + dir + " can be written by other users (mode "
                                              + octal(st.st_mode) + "); run chmod go-w " + dir
                                              + " or keep the key elsewhere (--key)");
}

// Creates each missing directory of dir with mode 0700.
void createDirectories(const std::string& dir)
{
    const Poco::Path path(dir);
    std::string partial = path.isAbsolute() ? "/" : "";
    for (int i = 0; i < path.depth(); ++i) {
        partial += path[i];
        if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
            throw Poco::CreateFileException("cannot create the key directory " + partial + ": " + lastError()
                                            + "; create it, or keep the key elsewhere (--key)");
        partial += '/';
    }
}

SigningKey readKey(int fd, const std::string& path)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw Poco::IOException("cannot read the key file " + path + ": " + lastError());
    if (!S_ISREG(st.st_mode))
        throw Poco::FileAccessDeniedException("the key file " + path
                                              + " is not a regular file; point --key at a peerchat key file");
    if ((st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0)
        throw Poco::FileAccessDeniedException("the key file " + path + " can be read or written by other users (mode "
                                              + octal(st.st_mode) + "); run chmod 600 " + path);
    LockedSecret<KeyText> content;
    std::size_t size = 0;
    while (size < content->size()) {
        const ssize_t got = ::read(fd, content->data() + size, content->size() - size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw Poco::IOException("cannot read the key file " + path + ": " + lastError());
        if (got == 0) break;
        size += static_cast<std::size_t>(got);
    }
    LockedSecret<KeySeed> seed;
    if (!parseKeyLine(*content, size, *seed))
        throw Poco::DataFormatException("the key file " + path
                                        + " does not hold a peerchat key (one line: peerchat-ed25519 SEED); "
                                          "restore it from a backup, or move it away to make a new identity "
                                          "(your peers will then see a changed key)");
    return SigningKey::fromSeed(*seed);
}

void writeAll(int fd, const char* text, std::size_t size)
{
    std::size_t done = 0;
    while (done < size) {
        const ssize_t wrote = ::write(fd, text + done, size - done);
        if (wrote < 0 && errno == EINTR) continue;
        if (wrote < 0) throw Poco::WriteFileException(lastError());
        done += static_cast<std::size_t>(wrote);
    }
    if (::fsync(fd) != 0) throw Poco::WriteFileException(lastError());
}

// Writes key to a private temporary file, then links it in at path, which
// fails rather than replace a key another process made meanwhile. False when
// path exists.
bool writeNewKey(const std::string& path, const SigningKey& key)
{
    std::array<std::uint8_t, 8> suffix;
    randombytes_buf(suffix.data(), suffix.size());
    const std::string temporary = path + ".new-" + Base64::encode(suffix);
    LockedSecret<KeyText> content;
    printKeyLine(key.seed(), *content);
    try {
        const Descriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (fd.get() < 0) throw Poco::WriteFileException(lastError());
        writeAll(fd.get(), content->data(), kLineBytes);
    } catch (const Poco::Exception& e) {
        ::unlink(temporary.c_str());
        throw Poco::WriteFileException("cannot write a new key to " + temporary + ": " + e.message()
                                       + "; make its directory writable, or keep the key elsewhere (--key)");
    }
    const int linked = ::link(temporary.c_str(), path.c_str());
    const int linkError = errno;
    ::unlink(temporary.c_str());
    if (linked != 0 && linkError == EEXIST) return false;
    if (linked != 0)
        throw Poco::WriteFileException("cannot put the new key in place at " + path + ": " + std::strerror(linkError)
                                       + "; make its directory writable, or keep the key elsewhere (--key)");
    const Descriptor dir(::open(parentOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
    return true;
}

// The key at path, or nullopt when there is no file there.
std::optional<SigningKey> readExisting(const std::string& path)
{
    // O_NONBLOCK: a FIFO in the key's place must be refused, not waited on.
    const Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (fd.get() >= 0) return readKey(fd.get(), path);
    if (errno == ENOENT) return std::nullopt;
    throw Poco::FileAccessDeniedException("cannot read the key file " + path + ": " + lastError()
                                          + "; check its permissions, or keep the key elsewhere (--key)");
}

} // namespace

std::string KeyFile::defaultPath(const std::string& fileName)
{
    const char* config = std::getenv("XDG_CONFIG_HOME");
    if (config && *config == '/') return std::string(config) + "/peerchat/" + fileName;
    // Path::home() ends in '/' and falls back to the password database without HOME.
    return Poco::Path::home() + ".config/peerchat/" + fileName;
}

SigningKey KeyFile::loadOrCreate(const std::string& path, bool* created)
{
    if (created) *created = false;
    const std::string dir = parentOf(path);
    createDirectories(dir);
    refuseOpenDirectory(dir);
    if (auto existing = readExisting(path)) return *existing;
    SigningKey key = SigningKey::generate();
    if (writeNewKey(path, key)) {
        if (created) *created = true;
        return key;
    }
    // Another process made the key first: use that one.
    if (auto existing = readExisting(path)) return *existing;
    throw Poco::FileAccessDeniedException("cannot read the key file " + path
                                          + " (a dangling link?); remove it, or keep the key elsewhere (--key)");
}

} // namespace peerchat
