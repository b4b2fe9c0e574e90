#pragma once

#include "KxKeyPair.h"
#include "Protocol.h"
#include "RosterCodec.h"
#include "SigningKey.h"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace peerchat::test {

/// A test double of indexd built from common/'s codec and crypto: it answers
/// a peerd's login with a challenge and a welcome signed by its own key, as
/// an impostor or a compromised indexd would, and does nothing else unless
/// the test makes it: serve a signed roster, sign and send presence.
class FakeIndex
{
public:
    /// An index with key, on 127.0.0.1 port (0: any free port; another
    /// indexd's port once that one is gone, to stand in its place).
    explicit FakeIndex(const SigningKey& key, std::uint16_t port = 0);
    ~FakeIndex();
    FakeIndex(const FakeIndex&) = delete;
    FakeIndex& operator=(const FakeIndex&) = delete;

    /// From now on, the welcome names a peerchat roster port, on a thread of
    /// its own, that writes users (with SEQ seq) signed by key() for this run
    /// to every connection.
    void serveRoster(const std::vector<RosterEntry>& users, std::uint64_t seq);
    /// kx under identity's name, with identity's KXSIG for this fake run:
    /// whatever keys this indexd chooses to present for a user.
    PeerKeys keysFor(const SigningKey& identity, const std::string& name, const PublicKey& kx) const;
    /// Signs login (an announcement with SEQ and keys) for this run and sends it to "host:port".
    void announce(Login login, const std::string& to);

    std::string endpoint() const;
    const SigningKey& key() const { return _key; }

    /// Waits for a hello, answers it with a challenge signed by key(), waits for the auth and
    /// answers it with a welcome signed by key() (or, given a refusal reason,
    /// with `refuse,NAME,REASON,NONCE`); echoes the hello's nonce in the
    /// challenge, as indexd does; skips anything else. The auth it took;
    /// fails the test when no login comes within timeout.
    Auth serveLogin(const std::string& refusal = "", std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// Waits for a hello and answers it with a challenge signed by key(), as
    /// serveLogin does; for a peerd that pins another index key, which
    /// answers it with no auth. Fails the test when no hello comes within timeout.
    void serveChallenge(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// Sends bytes to "host:port" from the index's endpoint.
    void sendRaw(const std::string& bytes, const std::string& to);
    /// True when nothing arrives within window.
    bool quietFor(std::chrono::milliseconds window);

private:
    /// The next datagram within the time left until deadline, decoded, and
    /// where it came from; fails the test when none comes.
    std::pair<Parsed<Inbound>, Poco::Net::SocketAddress> receive(std::chrono::steady_clock::time_point deadline);
    /// Answers hello, which came from from, with a signed challenge echoing its nonce.
    void challenge(const Hello& hello, const Poco::Net::SocketAddress& from);

    SigningKey _key;
    KxKeyPair _kx;
    Epoch _epoch{};
    Poco::Net::DatagramSocket _socket;
    std::optional<Poco::Net::ServerSocket> _rosterSocket;
    std::string _rosterPart;  ///< the roster the port signs and writes, up to `end,SEQ`; set before its thread starts
    std::atomic<bool> _stopping{false};
    std::thread _rosterThread;
};

} // namespace peerchat::test
