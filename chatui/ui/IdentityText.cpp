#include "IdentityText.h"

namespace peerchat::chatui {

namespace {

/// The label column of /verify's lines, so the fingerprints line up.
std::string label(const std::string& text)
{
    constexpr std::size_t kWidth = 20;
    return text.size() < kWidth ? text + std::string(kWidth - text.size(), ' ') : text + " ";
}

} // namespace

std::string IdentityText::tag(local::Trust trust)
{
    switch (trust) {
    case local::Trust::Changed: return "!key changed";
    case local::Trust::Unverified: return "?unverified";
    case local::Trust::Pinned: return {};
    }
    return {};
}

std::vector<std::string> IdentityText::tagHelp()
{
    return {
        tag(local::Trust::Changed) + ": the peer presents another key than the one pinned; nothing goes to or comes "
                                     "from them until you compare (/verify) and accept it (/trust)",
        tag(local::Trust::Unverified) + ": a seed or .NET client, which has no key; a ? by a line means nobody "
                                        "signed it: anyone on the network could have sent it",
    };
}

std::vector<std::string> IdentityText::whoami(const std::string& self, const std::string& fingerprint)
{
    if (fingerprint.empty())
        return {"you are " + self, "your key's fingerprint is not known yet: peerd has not said it (is it running?)"};
    return {
        label("you are:") + self,
        label("your key:") + fingerprint,
        "Whoever wants to check it is you compares this, read out in person or on the phone, with what their "
        "/verify " + self + " shows.",
    };
}

std::string IdentityText::whoamiLine(const std::string& self, const std::string& fingerprint)
{
    if (fingerprint.empty()) return "you are " + self + "; peerd has not said your key's fingerprint yet";
    return "you are " + self + ", key " + fingerprint;
}

std::vector<std::string> IdentityText::keys(const local::KeysEvent& keys)
{
    const std::string& peer = keys.peer;
    std::vector<std::string> lines{label("your key:") + keys.self};
    if (keys.trust == local::Trust::Unverified) {
        lines.push_back(label(peer + "'s key:") + "none: a seed or .NET client, which has no key");
        lines.push_back("Nothing " + peer + " sends can be verified: anyone on the network could send lines in "
                        + peer + "'s name. Such lines are marked ?.");
        return lines;
    }
    lines.push_back(label(peer + "'s pinned key:")
                    + (keys.pinned.empty() ? "none yet: peerd pins it when it first sees " + peer : keys.pinned));
    if (keys.trust == local::Trust::Changed && keys.offered.empty()) {
        lines.push_back(label(peer + " now presents:") + "no key: " + peer + " now comes as a seed or .NET client");
        lines.push_back(peer + " now comes without a key: nothing is sent to or taken from " + peer
                        + ", since anyone can log in under a name without a key. Ask " + peer
                        + ", in person or on the phone, whether they now use a client without encryption. Only if "
                        "they do, accept it with /trust " + peer + ": " + peer
                        + " becomes a seed user to you, whose lines anyone may read or send, and the lines waiting "
                          "for " + peer + " go out in the clear.");
        return lines;
    }
    if (keys.trust == local::Trust::Changed) {
        lines.push_back(label(peer + " now presents:") + keys.offered);
        lines.push_back(peer + "'s key changed: nothing is sent to or taken from " + peer
                        + " until you accept the new key. Ask " + peer
                        + ", in person or on the phone, to read out what their /whoami shows. If it equals what "
                        + peer + " now presents, accept it with /trust " + peer
                        + ". If not, someone may be posing as " + peer + ": do not trust it.");
        return lines;
    }
    lines.push_back("To compare: ask " + peer + ", in person or on the phone, to read out what their /whoami shows; "
                    "it must equal " + peer + "'s pinned key. " + peer + " checks your key the same way.");
    return lines;
}

std::vector<std::string> IdentityText::trusted(const std::string& peer)
{
    return {"You accepted the key " + peer + " now presents. It is pinned, and lines to and from " + peer
            + " go through again."};
}

std::string IdentityText::keyChanged(const std::string& peer)
{
    return peer + "'s key changed: lines are not sent until you compare fingerprints (/verify " + peer
           + ") and accept the new key (/trust " + peer + ")";
}

std::string IdentityText::keysChanged(const std::vector<std::string>& peers)
{
    const std::string& first = peers.front();
    std::string text = first + "'s key changed";
    if (peers.size() > 1) text += " (and " + std::to_string(peers.size() - 1) + " more)";
    return text + ": open the chat, then /verify " + first + " and /trust " + first;
}

} // namespace peerchat::chatui
