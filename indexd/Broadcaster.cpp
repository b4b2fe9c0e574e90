#include "Broadcaster.h"

namespace peerchat {

Broadcaster::Broadcaster(const Directory& directory, DatagramSink& sink) : _directory(directory), _sink(sink) {}

void Broadcaster::announceLogin(const OnlineUser& user, std::uint64_t seq)
{
    const Login plain{user.name, user.endpoint, {}, 0};
    const Login withDialect{user.name, user.endpoint, std::string(dialectToken(user.dialect)), seq};
    fanOut(user.endpoint, Protocol::encodeDatagram(plain, TextEncoding::Utf8),
           Protocol::encodeDatagram(plain, TextEncoding::Utf16le),
           Protocol::encodeDatagram(withDialect, TextEncoding::Utf8));
}

void Broadcaster::announceLogout(const OnlineUser& user, std::uint64_t seq)
{
    const Logout plain{user.name, user.endpoint, 0};
    const Logout withSeq{user.name, user.endpoint, seq};
    fanOut(user.endpoint, Protocol::encodeDatagram(plain, TextEncoding::Utf8),
           Protocol::encodeDatagram(plain, TextEncoding::Utf16le),
           Protocol::encodeDatagram(withSeq, TextEncoding::Utf8));
}

void Broadcaster::fanOut(const Endpoint& subject, std::string_view utf8, std::string_view utf16le,
                         std::string_view peerchat)
{
    // Skipping the subject's endpoint rather than its name also spares a user
    // who just displaced someone the news that its own endpoint left.
    for (const auto& [name, recipient] : _directory.users()) {
        if (recipient.endpoint == subject) continue;
        switch (recipient.dialect) {
        case Dialect::Seed: _sink.sendTo(utf8, recipient.endpoint); break;
        case Dialect::DotNet: _sink.sendTo(utf16le, recipient.endpoint); break;
        case Dialect::Peerchat: _sink.sendTo(peerchat, recipient.endpoint); break;
        }
    }
}

} // namespace peerchat
