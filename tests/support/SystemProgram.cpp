#include "SystemProgram.h"

#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>

namespace peerchat::test {

std::string systemProgram(const std::string& name, const std::string& debianPackage)
{
    for (const char* directory : {"/usr/bin", "/usr/sbin", "/bin", "/sbin"}) {
        const std::string path = std::string(directory) + "/" + name;
        if (::access(path.c_str(), X_OK) == 0) return path;
    }
    CPPUNIT_FAIL(name + " is not installed: `make deps` installs it (Debian package " + debianPackage + ")");
    return {};
}

} // namespace peerchat::test
