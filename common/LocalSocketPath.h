#pragma once

#include <string>

namespace peerchat {

/// Where peerd's local socket for a user lives, shared by peerd and chatui.
class LocalSocketPath
{
public:
    /// `$XDG_RUNTIME_DIR/peerchat/NAME.sock`, else `/tmp/peerchat-UID/NAME.sock`.
    static std::string defaultFor(const std::string& user);

    /// Creates the socket's directory with mode 0700 when missing. Throws
    /// Poco::IOException with a message for a person when it cannot, or when
    /// the directory is not owned by this user or is open to others.
    static void ensureDirectory(const std::string& socketPath);
};

} // namespace peerchat
