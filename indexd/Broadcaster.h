#pragma once

#include "DatagramSink.h"
#include "Directory.h"
#include "IndexIdentity.h"

#include <cstdint>
#include <string_view>

namespace peerchat {

/// Tells every other online user that someone came or went: each at its
/// registered endpoint, in its own encoding and dialect. peerchat/3 users get
/// announcements with keys, signed by indexd for this run's epoch; seed and
/// .NET users (legacy mode) the seed's plain ones. Each form is encoded, and
/// signed, once per announcement however many users receive it.
class Broadcaster
{
public:
    /// identity signs the announcements; it must outlive the Broadcaster.
    Broadcaster(const Directory& directory, DatagramSink& sink, const IndexIdentity& identity);

    /// Sends `login,NAME,EP` (UTF-8 or UTF-16LE) or, to peerchat/3 users,
    /// `login,NAME,EP,DIALECT,SEQ,IDPK,KXPK,KXSIG,SIG`; seq is the
    /// announcement's presence sequence number (Directory::presenceSeq).
    void announceLogin(const OnlineUser& user, std::uint64_t seq);

    /// Sends `logout,NAME,EP` in each recipient's encoding or, to peerchat/3
    /// users, `logout,NAME,EP,SEQ,SIG`.
    void announceLogout(const OnlineUser& user, std::uint64_t seq);

private:
    /// Sends one of the three forms to every online user not at subject's endpoint.
    void fanOut(const Endpoint& subject, std::string_view utf8, std::string_view utf16le, std::string_view peerchat);

    const Directory& _directory;
    DatagramSink& _sink;
    const IndexIdentity& _identity;
};

} // namespace peerchat
