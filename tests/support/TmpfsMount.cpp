#include "TmpfsMount.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/mount.h>
#include <unistd.h>
#include <vector>

namespace peerchat::test {

namespace {

const char* const kFiller = "filler";

} // namespace

TmpfsMount::TmpfsMount(std::size_t bytes)
{
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", _dir.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
        throw std::runtime_error("cannot mount a tmpfs on " + _dir.path() + " (" + std::strerror(errno) +
                                 "): run the test as root");
    }
}

TmpfsMount::~TmpfsMount()
{
    ::umount2(_dir.path().c_str(), MNT_DETACH);
}

std::size_t TmpfsMount::fill()
{
    const int fd = ::open(file(kFiller).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + file(kFiller) + ": " + std::strerror(errno));
    const std::vector<char> block(4096, 'f');
    std::size_t written = 0;
    for (ssize_t n; (n = ::write(fd, block.data(), block.size())) > 0;) written += static_cast<std::size_t>(n);
    const int error = errno;
    ::close(fd);
    if (error != ENOSPC) throw std::runtime_error("filling " + file(kFiller) + ": " + std::strerror(error));
    return written;
}

void TmpfsMount::release()
{
    ::unlink(file(kFiller).c_str());
}

} // namespace peerchat::test
