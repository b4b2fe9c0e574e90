#pragma once

#include "DatagramSink.h"
#include "Directory.h"

#include <string_view>

namespace peerchat {

/// The seed's presence among seed and .NET users (legacy mode): tells every
/// other online seed and .NET user that a seed or .NET user came or went,
/// each at its registered endpoint, in its own encoding (UTF-8 or UTF-16LE).
/// peerchat/3 users neither receive these announcements nor are the subject
/// of one: their presence goes to their contacts only, sealed. Each form is
/// encoded once per announcement however many users receive it.
class Broadcaster
{
public:
    Broadcaster(const Directory& directory, DatagramSink& sink);

    /// Sends `login,NAME,EP` to every other seed and .NET user when user is a
    /// seed or .NET user; nothing when it is a peerchat/3 user.
    void announceLogin(const OnlineUser& user);

    /// Sends `logout,NAME,EP` to every other seed and .NET user when user is
    /// a seed or .NET user; nothing when it is a peerchat/3 user.
    void announceLogout(const OnlineUser& user);

private:
    /// Sends announcement of subject, a seed or .NET user (nothing for a
    /// peerchat/3 one), to every seed user in UTF-8 and every .NET user in
    /// UTF-16LE not at subject's endpoint.
    void fanOut(const OnlineUser& subject, const Message& announcement);

    const Directory& _directory;
    DatagramSink& _sink;
};

} // namespace peerchat
