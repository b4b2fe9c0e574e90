#pragma once

#include "LocalProtocol.h"

#include <string>
#include <vector>

namespace peerchat::chatui {

/// The words chatui uses about keys: who you are and your fingerprint, the
/// fingerprints to compare for a peer, the warning for a key that changed
/// and the tags that mark a user's trust. Plain text; windows draw it.
class IdentityText
{
public:
    /// What a user's name carries in the roster and a conversation's header:
    /// "!key changed", "?unverified", nothing for a pinned key.
    static std::string tag(local::Trust trust);
    /// What the tags mean, for /help.
    static std::vector<std::string> tagHelp();

    /// /whoami: your name and your key's fingerprint, and what they are for.
    static std::vector<std::string> whoami(const std::string& self, const std::string& fingerprint);
    /// The same in one line, for a status line.
    static std::string whoamiLine(const std::string& self, const std::string& fingerprint);

    /// /verify: the fingerprints keys gives (yours, the peer's pinned one and
    /// the one it now presents) and how to compare them.
    static std::vector<std::string> keys(const local::KeysEvent& keys);
    /// /trust went through: the key peer presents is pinned now.
    static std::vector<std::string> trusted(const std::string& peer);

    /// The warning a conversation shows while peer's key is changed.
    static std::string keyChanged(const std::string& peer);
    /// The roster's warning for the users (at least one) whose key changed.
    static std::string keysChanged(const std::vector<std::string>& peers);
};

} // namespace peerchat::chatui
