#include "Broadcaster.h"

namespace peerchat {

Broadcaster::Broadcaster(const Directory& directory, DatagramSink& sink) : _directory(directory), _sink(sink)
{
}

void Broadcaster::announceLogin(const OnlineUser& user)
{
    if (user.dialect == Dialect::Peerchat) return;
    Login login;
    login.name = user.name;
    login.endpoint = user.endpoint;
    fanOut(user.endpoint, Protocol::encodeDatagram(login, TextEncoding::Utf8),
           Protocol::encodeDatagram(login, TextEncoding::Utf16le));
}

void Broadcaster::announceLogout(const OnlineUser& user)
{
    if (user.dialect == Dialect::Peerchat) return;
    Logout logout;
    logout.name = user.name;
    logout.endpoint = user.endpoint;
    fanOut(user.endpoint, Protocol::encodeDatagram(logout, TextEncoding::Utf8),
           Protocol::encodeDatagram(logout, TextEncoding::Utf16le));
}

void Broadcaster::fanOut(const Endpoint& subject, std::string_view utf8, std::string_view utf16le)
{
    // Skipping the subject's endpoint rather than its name also spares a user
    // who just displaced someone the news that its own endpoint left.
    _directory.forEachUser([&](const OnlineUser& recipient) {
        if (recipient.endpoint == subject) return;
        switch (recipient.dialect) {
        case Dialect::Seed: _sink.sendTo(utf8, recipient.endpoint); break;
        case Dialect::DotNet: _sink.sendTo(utf16le, recipient.endpoint); break;
        case Dialect::Peerchat: break;
        }
    });
}

} // namespace peerchat
