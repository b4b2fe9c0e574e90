#include "FakeIndex.h"
#include "Wait.h"

#include "SignedStatement.h"

#include <Poco/Timespan.h>

#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <random>

namespace peerchat::test {

namespace {

template <typename Bytes>
Bytes randomBytes()
{
    std::random_device random;
    Bytes bytes{};
    for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random());
    return bytes;
}

} // namespace

FakeIndex::FakeIndex(const SigningKey& key, std::uint16_t port)
    : _key(key), _kx(KxKeyPair::generate()), _epoch(randomBytes<Epoch>()),
      _socket(Poco::Net::SocketAddress("127.0.0.1", port), false)
{
}

PeerKeys FakeIndex::keysFor(const SigningKey& identity, const std::string& name, const PublicKey& kx) const
{
    return PeerKeys{identity.publicKey(), kx,
                    identity.sign(SignedStatement::kx(identity.publicKey(), name, kx, _key.publicKey(), _epoch))};
}

std::string FakeIndex::endpoint() const
{
    return _socket.address().toString();
}

void FakeIndex::sendRaw(const std::string& bytes, const std::string& to)
{
    _socket.sendTo(bytes.data(), static_cast<int>(bytes.size()), Poco::Net::SocketAddress(to));
}

bool FakeIndex::quietFor(std::chrono::milliseconds window)
{
    return !_socket.poll(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(window.count()) * 1000),
                         Poco::Net::Socket::SELECT_READ);
}

std::pair<Parsed<Inbound>, Poco::Net::SocketAddress> FakeIndex::receive(std::chrono::steady_clock::time_point deadline)
{
    const auto left = timeLeft(deadline);
    CPPUNIT_ASSERT_MESSAGE("nothing came to the fake indexd at " + endpoint() + " in time",
                           left.count() > 0 && !quietFor(left));
    char buffer[65536];
    Poco::Net::SocketAddress from;
    const int n = _socket.receiveFrom(buffer, sizeof buffer, from);
    return {Protocol::decodeDatagram(std::string(buffer, static_cast<std::size_t>(n < 0 ? 0 : n))), from};
}

void FakeIndex::challenge(const Hello& hello, const Poco::Net::SocketAddress& from)
{
    Challenge challenge{hello.name, Endpoint(from), randomBytes<Nonce>(), hello.nonce.value_or(Nonce{}),
                        _epoch,     _key.publicKey(), Signature{}};
    challenge.sig = _key.sign(SignedStatement::challenge(challenge));
    sendRaw(Protocol::encodeDatagram(challenge, TextEncoding::Utf8), from.toString());
}

void FakeIndex::serveChallenge(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const auto [decoded, from] = receive(deadline);
        if (const auto* hello = decoded ? std::get_if<Hello>(&decoded->message) : nullptr) {
            challenge(*hello, from);
            return;
        }
    }
}

Auth FakeIndex::serveLogin(const std::string& refusal, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const auto [decoded, from] = receive(deadline);
        if (!decoded) continue;
        if (const auto* hello = std::get_if<Hello>(&decoded->message)) {
            challenge(*hello, from);
        } else if (const auto* auth = std::get_if<Auth>(&decoded->message)) {
            if (!refusal.empty()) {
                sendRaw(Protocol::encodeDatagram(Refuse{auth->name, refusal, auth->nonce}, TextEncoding::Utf8),
                        from.toString());
                return *auth;
            }
            Welcome welcome{auth->name, _epoch, _key.publicKey(), _kx.publicKey(), {}};
            welcome.sig = _key.sign(SignedStatement::welcome(welcome, auth->nonce));
            _session = SessionCipher::between(_kx, _key, auth->keys.identity, auth->keys.kx);
            CPPUNIT_ASSERT_MESSAGE("the auth's keys make no session", _session.has_value());
            _peer = from;
            _presenceSeq = 0;
            sendRaw(Protocol::encodeDatagram(welcome, TextEncoding::Utf8), from.toString());
            return *auth;
        }
    }
}

std::vector<ContactsDeclaration> FakeIndex::serveDeclaration(std::chrono::milliseconds timeout)
{
    CPPUNIT_ASSERT_MESSAGE("no login to take a contact list from", _session.has_value());
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // The parts of each version, by part number.
    std::map<std::uint64_t, std::map<std::uint32_t, ContactsDeclaration>> versions;
    while (true) {
        const auto [decoded, from] = receive(deadline);
        const auto* seal = decoded ? std::get_if<Seal>(&decoded->message) : nullptr;
        if (seal == nullptr || from != _peer || !_session->carries(*seal)) continue;
        const Parsed<std::string> opened = _session->open(*seal);
        if (!opened) continue;
        for (const Parsed<Message>& message : Protocol::decodeBundle(*opened)) {
            const auto* part = message ? std::get_if<ContactsDeclaration>(&*message) : nullptr;
            if (part == nullptr) continue;
            auto& parts = versions[part->version];
            parts[part->part] = *part;
            if (parts.size() < part->parts) continue;
            std::vector<Message> answer{Declared{part->version}, Snapshot{++_presenceSeq, _shown.size()}};
            for (Here here : _shown) {
                here.seq = ++_presenceSeq;
                answer.emplace_back(std::move(here));
            }
            sendSealed(answer);
            std::vector<ContactsDeclaration> list;
            for (auto& [number, each] : parts) list.push_back(std::move(each));
            return list;
        }
    }
}

void FakeIndex::sendHere(Here here)
{
    here.seq = ++_presenceSeq;
    sendSealed({here});
}

void FakeIndex::sendGone(const std::string& name)
{
    sendSealed({Gone{++_presenceSeq, name}});
}

void FakeIndex::sendSealed(const std::vector<Message>& messages)
{
    CPPUNIT_ASSERT_MESSAGE("no login to seal for", _session.has_value());
    std::string bundle;
    const auto flush = [&] {
        if (bundle.empty()) return;
        sendRaw(Protocol::encodeDatagram(_session->seal(bundle), TextEncoding::Utf8), _peer.toString());
        bundle.clear();
    };
    for (const Message& message : messages) {
        const std::string text = Protocol::encode(message);
        if (!bundle.empty() && bundle.size() + 1 + text.size() > Protocol::kMaxBundleBytes) flush();
        if (!bundle.empty()) bundle += Protocol::kBundleSeparator;
        bundle += text;
    }
    flush();
}

} // namespace peerchat::test
