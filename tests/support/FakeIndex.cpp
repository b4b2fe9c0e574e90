#include "FakeIndex.h"
#include "Wait.h"

#include "SignedStatement.h"

#include <Poco/Exception.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <cppunit/extensions/HelperMacros.h>

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

FakeIndex::~FakeIndex()
{
    _stopping = true;
    if (_rosterThread.joinable()) _rosterThread.join();
}

void FakeIndex::serveRoster(const std::vector<RosterEntry>& users, std::uint64_t seq)
{
    _rosterPart = RosterCodec::encode(users, RosterFormat::Peerchat, seq);
    _rosterSocket.emplace(Poco::Net::SocketAddress("127.0.0.1", 0));
    _rosterThread = std::thread([this] {
        while (!_stopping) {
            if (!_rosterSocket->poll(Poco::Timespan(0, 100000), Poco::Net::Socket::SELECT_READ)) continue;
            Poco::Net::StreamSocket connection = _rosterSocket->acceptConnection();
            // Like indexd: the request line first, then the roster signed over its nonce.
            try {
                connection.setReceiveTimeout(Poco::Timespan(2, 0));
                std::string line;
                char byte = 0;
                while (line.size() < RosterCodec::kMaxRequestBytes && connection.receiveBytes(&byte, 1) == 1 &&
                       byte != '\n')
                    line.push_back(byte);
                const Parsed<RosterRequest> request = RosterCodec::decodeRequest(line);
                if (!request) continue;
                const std::string roster = RosterCodec::withSignature(
                    _rosterPart,
                    _key.sign(SignedStatement::roster(RosterCodec::digest(_rosterPart), _epoch, request->nonce)));
                connection.sendBytes(roster.data(), static_cast<int>(roster.size()));
                connection.shutdownSend();
            } catch (const Poco::Exception&) {
                // A reader that went away or never asked: the next one is served.
            }
        }
    });
}

PeerKeys FakeIndex::keysFor(const SigningKey& identity, const std::string& name, const PublicKey& kx) const
{
    return PeerKeys{identity.publicKey(), kx,
                    identity.sign(SignedStatement::kx(identity.publicKey(), name, kx, _key.publicKey(), _epoch))};
}

void FakeIndex::announce(Login login, const std::string& to)
{
    login.sig = _key.sign(SignedStatement::presence(login, _epoch));
    sendRaw(Protocol::encodeDatagram(login, TextEncoding::Utf8), to);
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
    CPPUNIT_ASSERT_MESSAGE("no login came to the fake indexd at " + endpoint(), left.count() > 0 && !quietFor(left));
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
            const std::uint16_t port = _rosterSocket ? _rosterSocket->address().port() : 9;
            Welcome welcome{auth->name, port, _epoch, _key.publicKey(), _kx.publicKey(), {}};
            welcome.sig = _key.sign(SignedStatement::welcome(welcome, auth->nonce));
            sendRaw(Protocol::encodeDatagram(welcome, TextEncoding::Utf8), from.toString());
            return *auth;
        }
    }
}

} // namespace peerchat::test
