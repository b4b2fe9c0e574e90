#include "Broadcaster.h"

#include "SignedStatement.h"

namespace peerchat {

namespace {

// The datagram of a login or logout announcement signed by identity.
template <typename Announcement>
std::string signedDatagram(Announcement announcement, const IndexIdentity& identity)
{
    // The statement is the signed form without its SIG, so the form must be the signed one already.
    announcement.sig = Signature{};
    announcement.sig = identity.sign(SignedStatement::presence(announcement, identity.epoch()));
    return Protocol::encodeDatagram(announcement, TextEncoding::Utf8);
}

} // namespace

Broadcaster::Broadcaster(const Directory& directory, DatagramSink& sink, const IndexIdentity& identity)
    : _directory(directory), _sink(sink), _identity(identity)
{
}

void Broadcaster::announceLogin(const OnlineUser& user, std::uint64_t seq)
{
    const Login plain{user.name, user.endpoint, {}, 0, std::nullopt, std::nullopt};
    const Login announced{user.name, user.endpoint, std::string(dialectToken(user.dialect)), seq, user.keys,
                          std::nullopt};
    fanOut(user.endpoint, Protocol::encodeDatagram(plain, TextEncoding::Utf8),
           Protocol::encodeDatagram(plain, TextEncoding::Utf16le), signedDatagram(announced, _identity));
}

void Broadcaster::announceLogout(const OnlineUser& user, std::uint64_t seq)
{
    const Logout plain{user.name, user.endpoint, 0, std::nullopt};
    const Logout announced{user.name, user.endpoint, seq, std::nullopt};
    fanOut(user.endpoint, Protocol::encodeDatagram(plain, TextEncoding::Utf8),
           Protocol::encodeDatagram(plain, TextEncoding::Utf16le), signedDatagram(announced, _identity));
}

void Broadcaster::fanOut(const Endpoint& subject, std::string_view utf8, std::string_view utf16le,
                         std::string_view peerchat)
{
    // Skipping the subject's endpoint rather than its name also spares a user
    // who just displaced someone the news that its own endpoint left.
    _directory.forEachUser([&](const OnlineUser& recipient) {
        if (recipient.endpoint == subject) return;
        switch (recipient.dialect) {
        case Dialect::Seed: _sink.sendTo(utf8, recipient.endpoint); break;
        case Dialect::DotNet: _sink.sendTo(utf16le, recipient.endpoint); break;
        case Dialect::Peerchat: _sink.sendTo(peerchat, recipient.endpoint); break;
        }
    });
}

} // namespace peerchat
