#pragma once

#include "KxKeyPair.h"
#include "Protocol.h"
#include "SessionCipher.h"
#include "SigningKey.h"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace peerchat::test {

/// A client that speaks peerchat/3 the way peerd does, built from common/'s
/// codec and crypto classes and none of the daemons' code: a peer a test
/// drives datagram by datagram. It logs in (hello, challenge, auth, welcome,
/// checking indexd's signature), declares contacts and takes the presence
/// indexd sends, keeps a
/// session with indexd and with each peer it learns, seals and opens
/// datagrams, and keeps a copy of every datagram it sends, so a test can
/// replay them.
class SecureClient
{
public:
    /// A datagram that arrived: its bytes, where from, the message when it
    /// decodes, and for a seal that opened, the message inside it.
    struct Received
    {
        std::string bytes;
        Poco::Net::SocketAddress from;
        std::optional<Message> message;
        /// The first message inside; bundle holds them all (indexd bundles presence).
        std::optional<Message> inner;
        std::vector<Message> bundle{};
        /// Why it did not decode or open; empty when it did.
        std::string problem;
    };
    using Match = std::function<bool(const Received&)>;

    /// A client for name with a new identity key, on a socket bound to bindHost port 0.
    explicit SecureClient(std::string name, const std::string& bindHost = "127.0.0.1");
    /// A client for name with the given identity key.
    SecureClient(std::string name, const SigningKey& identity, const std::string& bindHost = "127.0.0.1");

    const std::string& name() const { return _name; }
    /// The endpoint it sends from and listens on, as the wire prints it.
    std::string endpoint() const;
    const SigningKey& identity() const { return _identity; }
    /// Its keys as indexd publishes them: identity, this login's key-exchange
    /// key, and its signature over that.
    PeerKeys keys() const;

    // ---- logging in, whole or step by step -------------------------------

    /// Logs in to indexd at index ("127.0.0.1:PORT") with a new key-exchange
    /// key: hello, challenge, auth, welcome. The welcome, once its signature
    /// over this login's nonce verifies and its index key is the one pinned
    /// (the first welcome's, or pinIndex()); otherwise why not, e.g.
    /// "refuse,bob,key" as it arrived, or "no challenge".
    Parsed<Welcome> login(const std::string& index, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Takes only welcomes from this index identity key.
    void pinIndex(const PublicKey& indexIdentity) { _indexPin = indexIdentity; }
    /// The next auth announces kx, someone else's key-exchange key, with a
    /// KXSIG of this client's own: the misbinding attack. The client holds no
    /// secret for kx, so that login makes no session with indexd.
    void claimKx(const PublicKey& kx) { _claimedKx = kx; }

    /// Sends `hello,NAME,DIALECT,HNONCE,PAD` to index with a random HNONCE,
    /// padded to Protocol::kMinHelloBytes unless padding is given.
    void sendHello(const std::string& index, const std::string& dialect = "peerchat/3",
                   std::optional<std::size_t> padding = std::nullopt);
    /// The next challenge that arrives within timeout (other datagrams are
    /// taken as receive() takes them); nullopt on timeout.
    std::optional<Challenge> awaitChallenge(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// The datagram answering challenge: an auth signed by this identity,
    /// with a new key-exchange key and a KXSIG for the challenge's indexd
    /// run. Not sent: login() sends it, a test may keep it.
    std::string authFor(const Challenge& challenge);

    // ---- once logged in --------------------------------------------------

    const Welcome& welcome() const;
    /// indexd's UDP endpoint of the last login().
    const std::string& index() const { return _index; }

    /// Seals inner for indexd and sends it.
    void sendToIndex(const Message& inner);
    /// Logs out: a sealed `logout,NAME,ENDPOINT` to indexd.
    void logout();
    /// The next seal of inner for indexd, not sent (a test may alter and send it).
    Seal sealForIndex(const Message& inner);
    /// The next seal of inner for peer name, not sent.
    Seal sealForPeer(const std::string& name, const Message& inner);
    /// The endpoint and keys of a peer the client has learnt; fails the test when it knows none.
    std::pair<std::string, PeerKeys> peer(const std::string& name) const;
    /// Learns where name is and its keys (as indexd published them; the kx
    /// signature must verify for the indexd run of the welcome) and opens a
    /// session with it; false when the keys do not check out or make no session.
    bool addPeer(const std::string& name, const std::string& endpoint, const PeerKeys& keys);
    /// Seals inner for peer name (learnt from presence or addPeer) and sends it to its endpoint.
    void sendToPeer(const std::string& name, const Message& inner);
    /// A sealed chat message for peer name: `msg,STREAM,SEQ,TIME,FROM,TEXT` from this client.
    void sendMsg(const std::string& to, const std::string& stream, std::uint64_t seq, const std::string& text);
    /// Moves to a new socket on the same host (another port), keeping the
    /// session and keys: what indexd and peers see when the client's NAT
    /// gives it a new mapping (a router that restarted).
    void rebind();
    /// Sends bytes as they are from this client's socket.
    void sendRaw(const std::string& bytes, const std::string& to);

    /// Declares contacts as this client's contact list to indexd (one
    /// part, signed, a new version each call), shown in state with status.
    void declare(const std::vector<std::string>& contacts, PresenceState state = PresenceState::Online,
                 const std::string& status = {});
    /// Receives until indexd says name is here; nullopt on timeout.
    std::optional<Here> awaitHere(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // ---- receiving ---------------------------------------------------------

    /// The next datagram within timeout; nullopt on timeout. A `here` from
    /// indexd teaches the client that peer's endpoint and keys.
    std::optional<Received> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Receives until a datagram matches; drops the others. nullopt on timeout.
    std::optional<Received> receiveMatching(const Match& match,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Receives until a sealed datagram with a message of verb inside arrives.
    std::optional<Received> receiveInner(const std::string& verb,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Receives until a plain (not sealed) message with verb arrives.
    std::optional<Received> receivePlain(const std::string& verb,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// True when nothing arrives within window.
    bool quietFor(std::chrono::milliseconds window);

    /// Every datagram this client sent, raw, oldest first.
    const std::vector<std::string>& sent() const { return _sent; }
    /// The last datagram sent whose text starts with prefix ("auth,", "seal,"); fails the test when none.
    std::string lastSent(const std::string& prefix) const;

private:
    struct Peer
    {
        std::string endpoint;
        PeerKeys keys;
        SessionCipher session;
    };

    void sendBytes(const std::string& bytes, const Poco::Net::SocketAddress& to);
    void learn(const Received& received);
    void open(Received& received);

    std::string _name;
    SigningKey _identity;
    Poco::Net::DatagramSocket _socket;
    std::optional<KxKeyPair> _kx;
    Signature _kxSig{};
    std::optional<PublicKey> _indexPin;
    std::optional<PublicKey> _claimedKx;
    std::string _index;
    std::optional<Nonce> _nonce;
    std::optional<Welcome> _welcome;
    std::optional<SessionCipher> _indexSession;
    std::map<std::string, Peer> _peers;
    std::vector<std::string> _sent;
    std::uint64_t _declared = 0;  ///< the version of the last declare()
};

} // namespace peerchat::test
