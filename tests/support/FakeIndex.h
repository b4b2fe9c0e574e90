#pragma once

#include "KxKeyPair.h"
#include "Protocol.h"
#include "SessionCipher.h"
#include "SigningKey.h"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace peerchat::test {

/// A test double of indexd built from common/'s codec and crypto: it answers
/// a peerd's login with a challenge and a welcome signed by its own key, as
/// an impostor or a compromised indexd would, and keeps the session that
/// login makes. Anything more only when the test makes it: answer a contact
/// list as indexd does (declared, then a snapshot of the users the test
/// shows), and tell that peerd of users who come and go (here, gone), each
/// numbered in this login, sealed in the session.
class FakeIndex
{
public:
    /// An index with key, on 127.0.0.1 port (0: any free port; another
    /// indexd's port once that one is gone, to stand in its place).
    explicit FakeIndex(const SigningKey& key, std::uint16_t port = 0);
    FakeIndex(const FakeIndex&) = delete;
    FakeIndex& operator=(const FakeIndex&) = delete;

    /// kx under identity's name, with identity's KXSIG for this fake run:
    /// whatever keys this indexd chooses to present for a user.
    PeerKeys keysFor(const SigningKey& identity, const std::string& name, const PublicKey& kx) const;
    /// From now on, snapshots list users (their SEQ is set as they go).
    void show(std::vector<Here> users) { _shown = std::move(users); }

    std::string endpoint() const;
    const SigningKey& key() const { return _key; }

    /// Waits for a hello, answers it with a challenge signed by key(), waits for the auth and
    /// answers it with a welcome signed by key() (or, given a refusal reason,
    /// with `refuse,NAME,REASON,NONCE`); echoes the hello's nonce in the
    /// challenge, as indexd does; skips anything else. A welcome starts a
    /// session with that login, which the rest of this class seals in. The
    /// auth it took; fails the test when no login comes within timeout.
    Auth serveLogin(const std::string& refusal = "", std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// Waits for a hello and answers it with a challenge signed by key(), as
    /// serveLogin does; for a peerd that pins another index key, which
    /// answers it with no auth. Fails the test when no hello comes within timeout.
    void serveChallenge(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// Waits for every part of a contact list from the login served last and
    /// answers it as indexd does: declared, then a snapshot of the users
    /// shown, in sealed bundles. The parts, in order; fails the test when no
    /// whole list comes within timeout (other datagrams are skipped).
    std::vector<ContactsDeclaration> serveDeclaration(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// Tells the login served last that here.name is online (here.seq is set to the next number).
    void sendHere(Here here);
    /// Tells the login served last that name is offline.
    void sendGone(const std::string& name);

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
    /// Seals messages to the login served last, as few bundles as Protocol::kMaxBundleBytes allows.
    void sendSealed(const std::vector<Message>& messages);

    SigningKey _key;
    KxKeyPair _kx;
    Epoch _epoch{};
    Poco::Net::DatagramSocket _socket;
    std::vector<Here> _shown;
    std::optional<SessionCipher> _session;  ///< with the login served last
    Poco::Net::SocketAddress _peer;         ///< where that login came from
    std::uint64_t _presenceSeq = 0;         ///< the last presence number sent to it
};

} // namespace peerchat::test
