#include "TempDir.h"

#include <Poco/File.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace peerchat::test {

TempDir::TempDir()
{
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/peerchat-test-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    _path = pattern;
}

TempDir::~TempDir()
{
    try {
        Poco::File(_path).remove(true);
    } catch (...) {
        // A leftover temporary directory is not worth failing a test over.
    }
}

} // namespace peerchat::test
