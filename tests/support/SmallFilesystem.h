#pragma once

#include "TempDir.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace peerchat::test {

/// A small tmpfs mounted on a private directory for one test, so that a
/// daemon's disk can really fill up and be freed again: fill() takes every
/// free byte, release() gives them back. Mounting needs root (CAP_SYS_ADMIN);
/// without it the constructor fails the test, saying so. Unmounted (lazily,
/// should a daemon still hold a file) when the object goes away.
class SmallFilesystem
{
public:
    /// Mounts a tmpfs of bytes (rounded up to pages).
    explicit SmallFilesystem(std::size_t bytes);
    ~SmallFilesystem();
    SmallFilesystem(const SmallFilesystem&) = delete;
    SmallFilesystem& operator=(const SmallFilesystem&) = delete;

    /// The mount point.
    const std::string& path() const { return _dir.path(); }
    /// path() + "/" + name
    std::string file(const std::string& name) const { return _dir.file(name); }

    /// Writes a file that takes every byte left, until the filesystem says it is full.
    void fill();
    /// Removes the file fill() wrote.
    void release();
    /// Bytes free now.
    std::uint64_t freeBytes() const;

private:
    TempDir _dir;
    std::string _filler;
};

} // namespace peerchat::test
