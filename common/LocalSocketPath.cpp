#include "LocalSocketPath.h"

#include <Poco/Exception.h>
#include <Poco/Path.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace peerchat {

std::string LocalSocketPath::defaultFor(const std::string& user)
{
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (runtime && *runtime == '/') return std::string(runtime) + "/peerchat/" + user + ".sock";
    return "/tmp/peerchat-" + std::to_string(::getuid()) + "/" + user + ".sock";
}

void LocalSocketPath::ensureDirectory(const std::string& socketPath)
{
    const std::string dir = Poco::Path(socketPath).parent().toString();
    const std::string shown = dir.empty() ? std::string(".") : dir;
    if (::mkdir(shown.c_str(), 0700) != 0 && errno != EEXIST)
        throw Poco::IOException("cannot create " + shown + ": " + std::strerror(errno)
                                + "; create it with mode 0700 or pass another --socket");
    struct stat st {};
    if (::stat(shown.c_str(), &st) != 0)
        throw Poco::IOException("cannot read " + shown + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) throw Poco::IOException(shown + " is not a directory; pass another --socket");
    if (st.st_uid != ::getuid())
        throw Poco::IOException(shown + " belongs to another user; pass another --socket");
    if ((st.st_mode & 077) != 0)
        throw Poco::IOException(shown + " is open to other users; make it private (chmod 700 " + shown
                                + ") or pass another --socket");
}

} // namespace peerchat
