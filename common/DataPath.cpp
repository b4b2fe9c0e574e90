#include "DataPath.h"

#include <Poco/Exception.h>
#include <Poco/Path.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

namespace peerchat {

std::string DataPath::defaultFor(const std::string& fileName)
{
    const char* data = std::getenv("XDG_DATA_HOME");
    if (data && *data == '/') return std::string(data) + "/peerchat/" + fileName;
    // Path::home() ends in '/' and falls back to the password database without HOME.
    return Poco::Path::home() + ".local/share/peerchat/" + fileName;
}

void DataPath::ensureDirectory(const std::string& filePath, const std::string& flag)
{
    const Poco::Path parent = Poco::Path(filePath).parent();
    std::string dir = parent.isAbsolute() ? "/" : "";
    for (int i = 0; i < parent.depth(); ++i) {
        dir += parent[i];
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
            throw Poco::IOException("cannot create " + dir + ": " + std::strerror(errno)
                                    + "; create it or choose another --" + flag);
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw Poco::IOException(dir + " is not a directory; choose another --" + flag);
        dir += '/';
    }
}

} // namespace peerchat
