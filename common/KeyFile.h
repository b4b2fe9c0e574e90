#pragma once

#include "SigningKey.h"

#include <string>

namespace peerchat {

/// Where an identity key lives on disk: one line
/// `peerchat-ed25519 BASE64SEED\n` in a file of mode 0600.
class KeyFile
{
public:
    /// $XDG_CONFIG_HOME/peerchat/fileName, or ~/.config/peerchat/fileName
    /// without XDG_CONFIG_HOME (e.g. defaultPath("alice.key")).
    static std::string defaultPath(const std::string& fileName);

    /// Reads the key at path, or creates a new one there (the directory with
    /// mode 0700 when missing, the file with 0600, written whole before it is
    /// renamed into place) when the file does not exist. Throws
    /// Poco::Exception with a message for a person, naming the path and what
    /// to do, when the file is readable or writable by group or others ("chmod
    /// 600 PATH"), is not a regular file, does not parse, or cannot be
    /// written. created, when given, says whether a new key was made.
    static SigningKey loadOrCreate(const std::string& path, bool* created = nullptr);
};

} // namespace peerchat
