#pragma once

#include "CryptoTypes.h"
#include "LocalProtocol.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Data {
class Session;
}

namespace peerchat {

/// A line to a peerchat peer that waits in the outbox until that peer acks it.
struct OutboxEntry
{
    std::string peer;
    std::uint64_t lineId = 0;  ///< the line's id in the conversation with peer
    std::string stream;        ///< this identity's outgoing stream to peer
    std::uint64_t seq = 0;     ///< the line's place in that stream, from 1
    std::string sentTime;
    std::string text;
};

/// The identity keys held for one peer (see KeyPins).
struct KeyPin
{
    PublicKey pinned{};               ///< pinned at first sight, or trusted since
    std::optional<PublicKey> offered; ///< the different key indexd presents, until the user trusts it
};

/// Every conversation of this identity: per peer, the lines in the order they
/// were stored (ids from 1), at most historyLimit of them (the oldest are
/// dropped), and how many incoming lines are unread; the outbox of lines not
/// yet acked, with the outgoing stream to each peer; and how far each
/// incoming stream has been delivered; and the identity keys pinned for peers
/// and for indexd (read and written through KeyPins). State only, kept in an SQLite
/// database: every call that changes something has committed it before it
/// returns, in one transaction, so a crash never keeps half of a change.
class ConversationStore
{
public:
    /// The schema version this peerd writes (PRAGMA user_version).
    static constexpr int kSchemaVersion = 2;

    /// Opens (creating it, and its directory with mode 0700, when missing;
    /// the file with mode 0600) the database at path, or a private one in
    /// memory for ":memory:", migrates it to kSchemaVersion and holds it
    /// exclusively until destroyed. Throws Poco::IOException with a message
    /// for a person ("cannot open PATH: ...") when it cannot be opened, is
    /// in use by another process, or was written by a newer peerd.
    ConversationStore(const std::string& path, std::size_t historyLimit);

    /// A store in memory only (":memory:"), for tests.
    explicit ConversationStore(std::size_t historyLimit);

    ~ConversationStore();
    ConversationStore(const ConversationStore&) = delete;
    ConversationStore& operator=(const ConversationStore&) = delete;

    /// Stores a line someone else wrote to us and counts it unread; returns it
    /// with its id. verified is false for a line from plain seed talk, whose
    /// sender nothing proves.
    local::ChatLine addIncoming(const std::string& peer, std::string sentTime, std::int64_t receivedAtMs,
                                std::string text, bool verified);

    /// Stores a line this identity (self) sent to peer that needs no ack (to a
    /// seed client: state Sent); returns it with its id.
    local::ChatLine addOutgoing(const std::string& peer, const std::string& self, std::string sentTime,
                                std::int64_t receivedAtMs, std::string text,
                                local::LineState state = local::LineState::Sent);

    /// Stores a line self writes to a peerchat peer, as Pending, and puts it in
    /// the outbox with the next number of the outgoing stream to peer (the
    /// stream gets a random id on first use), in one step.
    OutboxEntry enqueue(const std::string& peer, const std::string& self, std::string sentTime,
                        std::int64_t receivedAtMs, std::string text);

    /// Every line waiting for an ack: per peer, in stream order.
    std::vector<OutboxEntry> outbox() const;

    /// peer answers under another identity key now (the user trusted its new
    /// key): a new installation, which never saw the outgoing stream to peer.
    /// Gives peer a new stream and moves the lines still waiting for it there,
    /// in order, numbered from 1, in one step; returns them as they are now.
    std::vector<OutboxEntry> restartStream(const std::string& peer);

    /// peer has delivered its copy of stream up to seq: those lines leave the
    /// outbox and become Delivered. Returns the ids of the lines that changed.
    std::vector<std::uint64_t> acknowledge(const std::string& peer, const std::string& stream, std::uint64_t seq);

    /// Sets the state of line id with peer; false when there is no such line.
    bool setState(const std::string& peer, std::uint64_t id, local::LineState state);

    /// How far the stream from sender has been delivered: every seq up to the
    /// result (0: none yet).
    std::uint64_t delivered(const std::string& sender, const std::string& stream) const;

    /// Stores seq of sender's stream, which must be delivered(sender, stream)
    /// + 1, as a Received line counted unread, and moves the stream on to it,
    /// in one step; returns the line.
    local::ChatLine deliver(const std::string& sender, const std::string& stream, std::uint64_t seq,
                            std::string sentTime, std::int64_t receivedAtMs, std::string text);

    /// The lines kept with peer, oldest first.
    std::vector<local::ChatLine> history(const std::string& peer) const;

    /// Up to limit lines with peer whose text contains text (case-sensitive,
    /// bytewise), the newest ones, oldest first.
    std::vector<local::ChatLine> search(const std::string& peer, const std::string& text, std::size_t limit) const;

    /// How many incoming lines from peer are unread.
    std::uint32_t unread(const std::string& peer) const;

    /// Every non-zero unread count, by peer.
    std::map<std::string, std::uint32_t> unreadCounts() const;

    /// The user has seen the conversation with peer: its unread count becomes 0.
    void markRead(const std::string& peer);

    /// Every peer's pinned (and offered) identity key, by name, as stored.
    std::map<std::string, KeyPin> keyPins() const;

    /// Stores keys as name's, replacing what was stored.
    void saveKeyPin(const std::string& name, const KeyPin& keys);

    /// indexd's pinned key per index endpoint, as stored.
    std::map<std::string, PublicKey> indexKeys() const;

    /// Stores key as the pin for indexEndpoint, replacing what was stored.
    void saveIndexKey(const std::string& indexEndpoint, const PublicKey& key);

private:
    struct Conversation
    {
        std::uint64_t lastId = 0;  ///< the newest id given out; ids go on after old lines are dropped
        std::uint32_t unread = 0;
    };

    void open();
    void migrate();
    void load();
    /// Runs write in one transaction and commits it; a failure rolls it back
    /// and throws Poco::IOException naming the database.
    template <typename Write>
    void commit(const std::string& what, Write&& write);
    /// Inserts line with the next id of its conversation, drops what falls
    /// past historyLimit and saves the conversation's counters; part of the
    /// caller's transaction. Returns the line with its id and the counters.
    std::pair<local::ChatLine, Conversation> insertLine(local::ChatLine line, bool unread);

    std::string _path;
    std::size_t _historyLimit;
    std::unique_ptr<Poco::Data::Session> _session;
    // What the database holds, but the lines, cached for the wire's frequent
    // reads; changed only after the transaction that writes it has committed.
    std::map<std::string, Conversation> _conversations;
    /// Outgoing stream per peer: its id and the last seq given out.
    std::map<std::string, std::pair<std::string, std::uint64_t>> _outgoingStreams;
    std::vector<OutboxEntry> _outbox;
    /// Delivered position per (sender, stream).
    std::map<std::pair<std::string, std::string>, std::uint64_t> _incomingStreams;
};

} // namespace peerchat
