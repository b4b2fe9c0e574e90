#pragma once

#include <string>

namespace peerchat::test {

/// A private directory (mode 0700) under $TMPDIR, removed with its contents.
class TempDir
{
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return _path; }
    /// path() + "/" + name
    std::string file(const std::string& name) const { return _path + "/" + name; }

private:
    std::string _path;
};

} // namespace peerchat::test
