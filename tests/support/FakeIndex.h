#pragma once

#include "KxKeyPair.h"
#include "Protocol.h"
#include "SigningKey.h"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace peerchat::test {

/// A test double of indexd built from common/'s codec and crypto: it answers
/// a peerd's login with a challenge and a welcome signed by its own key, as
/// an impostor or a compromised indexd would, and does nothing else unless
/// the test makes it.
class FakeIndex
{
public:
    /// An index with key, on 127.0.0.1 port (0: any free port; another
    /// indexd's port once that one is gone, to stand in its place).
    explicit FakeIndex(const SigningKey& key, std::uint16_t port = 0);

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
};

} // namespace peerchat::test
