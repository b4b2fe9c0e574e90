#pragma once

#include "TempDir.h"

#include <cstddef>
#include <string>

namespace peerchat::test {

/// A small tmpfs mounted on a private directory, to fill a disk for real:
/// fill() writes a file until the file system is full, release() deletes it.
/// Unmounted when the object goes (lazily, should a process still hold a
/// file in it). Needs root, which the tests run as.
class TmpfsMount
{
public:
    /// Mounts a tmpfs of bytes; throws std::runtime_error when it cannot.
    explicit TmpfsMount(std::size_t bytes);
    ~TmpfsMount();
    TmpfsMount(const TmpfsMount&) = delete;
    TmpfsMount& operator=(const TmpfsMount&) = delete;

    /// path() + "/" + name, where path() is the mount point.
    std::string file(const std::string& name) const { return _dir.file(name); }
    /// Writes a filler file until the file system has no room left; returns its size.
    std::size_t fill();
    /// Deletes the filler file.
    void release();

private:
    TempDir _dir;
};

} // namespace peerchat::test
