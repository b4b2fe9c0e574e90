#pragma once

#include <string>

namespace peerchat {

/// Where the daemons keep their SQLite files: indexd's mailbox, peerd's
/// history.
class DataPath
{
public:
    /// `$XDG_DATA_HOME/peerchat/FILE`, else `~/.local/share/peerchat/FILE`
    /// (an XDG_DATA_HOME that is not an absolute path is ignored, as the XDG
    /// spec says).
    static std::string defaultFor(const std::string& fileName);

    /// Creates the directory that holds filePath, and any missing parent, with
    /// mode 0700; an existing directory is left as it is. Throws
    /// Poco::IOException with a message for a person, naming the --flag that
    /// chooses another path, when it cannot.
    static void ensureDirectory(const std::string& filePath, const std::string& flag);
};

} // namespace peerchat
