#pragma once

#include "DatagramSink.h"
#include "Directory.h"

#include <cstdint>
#include <string_view>

namespace peerchat {

/// Tells every other online user that someone came or went: each at its
/// registered endpoint, in its own encoding and dialect. Each form of an
/// announcement is encoded once, however many users receive it.
class Broadcaster
{
public:
    Broadcaster(const Directory& directory, DatagramSink& sink);

    /// Sends `login,NAME,EP` (UTF-8 or UTF-16LE) or, to peerchat users,
    /// `login,NAME,EP,DIALECT,SEQ`; seq is the announcement's presence
    /// sequence number (Directory::presenceSeq).
    void announceLogin(const OnlineUser& user, std::uint64_t seq);

    /// Sends `logout,NAME,EP` in each recipient's encoding or, to peerchat
    /// users, `logout,NAME,EP,SEQ`.
    void announceLogout(const OnlineUser& user, std::uint64_t seq);

private:
    /// Sends one of the three forms to every online user not at subject's endpoint.
    void fanOut(const Endpoint& subject, std::string_view utf8, std::string_view utf16le, std::string_view peerchat);

    const Directory& _directory;
    DatagramSink& _sink;
};

} // namespace peerchat
