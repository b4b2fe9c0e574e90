#include "SmallFilesystem.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <vector>

namespace peerchat::test {

SmallFilesystem::SmallFilesystem(std::size_t bytes) : _filler(_dir.file(".filler"))
{
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", _dir.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
        CPPUNIT_FAIL("cannot mount a tmpfs on " + _dir.path() + " (" + std::strerror(errno)
                     + "): this test fills a real filesystem and needs root (CAP_SYS_ADMIN)");
    }
}

SmallFilesystem::~SmallFilesystem()
{
    ::umount2(_dir.path().c_str(), MNT_DETACH);
}

void SmallFilesystem::fill()
{
    const int fd = ::open(_filler.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    CPPUNIT_ASSERT_MESSAGE(std::string("open ") + _filler + ": " + std::strerror(errno), fd >= 0);
    const std::vector<char> block(4096, 'x');
    // Whole blocks first, then single bytes into the last partial page.
    for (std::size_t size = block.size(); size > 0; size /= 2) {
        while (::write(fd, block.data(), size) == static_cast<ssize_t>(size)) {
        }
    }
    const int error = errno;
    ::close(fd);
    CPPUNIT_ASSERT_MESSAGE(std::string("filling ") + path() + " stopped with: " + std::strerror(error),
                           error == ENOSPC);
}

void SmallFilesystem::release()
{
    CPPUNIT_ASSERT_MESSAGE(std::string("remove ") + _filler + ": " + std::strerror(errno),
                           std::remove(_filler.c_str()) == 0);
}

std::uint64_t SmallFilesystem::freeBytes() const
{
    struct statvfs stats {};
    CPPUNIT_ASSERT(::statvfs(path().c_str(), &stats) == 0);
    return static_cast<std::uint64_t>(stats.f_bavail) * stats.f_frsize;
}

} // namespace peerchat::test
