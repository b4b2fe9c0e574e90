#include "Broadcaster.h"

namespace peerchat {

Broadcaster::Broadcaster(const Directory& directory, DatagramSink& sink) : _directory(directory), _sink(sink)
{
}

void Broadcaster::announceLogin(const OnlineUser& user)
{
    fanOut(user, Login{user.name, user.endpoint, {}});
}

void Broadcaster::announceLogout(const OnlineUser& user)
{
    fanOut(user, Logout{user.name, user.endpoint});
}

void Broadcaster::fanOut(const OnlineUser& subject, const Message& announcement)
{
    if (subject.dialect == Dialect::Peerchat) return;
    const std::string utf8 = Protocol::encodeDatagram(announcement, TextEncoding::Utf8);
    const std::string utf16le = Protocol::encodeDatagram(announcement, TextEncoding::Utf16le);
    // Skipping the subject's endpoint rather than its name also spares a user
    // who just displaced someone the news that its own endpoint left.
    _directory.forEachUser([&](const OnlineUser& recipient) {
        if (recipient.endpoint == subject.endpoint) return;
        switch (recipient.dialect) {
        case Dialect::Seed: _sink.sendTo(utf8, recipient.endpoint); break;
        case Dialect::DotNet: _sink.sendTo(utf16le, recipient.endpoint); break;
        case Dialect::Peerchat: break;
        }
    });
}

} // namespace peerchat
