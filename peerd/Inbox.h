#pragma once

#include "IncomingStreams.h"
#include "LineStore.h"
#include "LocalProtocol.h"
#include "Protocol.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace peerchat {

/// Delivers the messages of every incoming stream exactly once and in order:
/// a message next in its stream is stored at once (IncomingStreams::deliver),
/// with every held one that follows it; one that arrives ahead of a gap is held
/// in memory, at most `window` ahead of the delivered position, in at most
/// kMaxHeldStreamsPerSender streams per sender (a new one displaces the one
/// idle longest) and at most kMaxHeldBytes in all; anything else is dropped
/// (the sender sends it again). A message the store refuses (a full disk) is
/// not delivered, and neither is what follows it: the position stays before
/// it, so it is not acked and its sender sends it again. State only: the
/// caller passes the clock's reading.
class Inbox
{
public:
    /// Most bytes held across all streams (text, and a share for the other fields).
    static constexpr std::size_t kMaxHeldBytes = 16 * 1024 * 1024;
    /// Most streams of one sender with messages held ahead of a gap.
    static constexpr std::size_t kMaxHeldStreamsPerSender = 64;
    /// Most messages held ahead of a gap per stream, unless the owner says
    /// otherwise: as far ahead of its first unacked line as a sender goes
    /// (Outbox::kMostAhead; held lines no longer count in its window).
    static constexpr std::size_t kDefaultWindow = 4096;

    /// A line that was delivered, with its conversation's unread count right after it.
    struct Delivered
    {
        local::ChatLine line;
        std::uint32_t unread = 0;
    };

    /// What receive() did.
    struct Result
    {
        std::vector<Delivered> delivered;  ///< in stream order
        std::uint64_t position = 0;        ///< the stream's delivered position afterwards (0: none yet)
        std::string refusal;               ///< why the store refused the message after position; empty if it did not
        std::vector<SeqRange> held;        ///< the stream's runs held ahead of position, lowest first, at most Protocol::kMaxAckRanges
    };

    /// Whether a sender's lines are kept: a line of one that is not is
    /// passed over (its stream moves on, and it is acked, but nothing is
    /// stored or shown).
    using Keeps = std::function<bool(const std::string& sender)>;

    /// keeps empty: every sender's lines are kept; lines says the unread counts.
    Inbox(IncomingStreams& streams, const LineStore& lines, std::size_t window, Keeps keeps = {});

    /// Takes one message of msg.from's stream msg.stream, received at receivedAtMs.
    Result receive(const Msg& msg, std::int64_t receivedAtMs);

    /// How many messages are held ahead of a gap.
    std::size_t held() const { return _heldCount; }

private:
    struct Held
    {
        Msg msg;
        std::int64_t receivedAtMs = 0;
    };
    using StreamKey = std::pair<std::string, std::string>;  // sender, stream

    /// One stream's messages held ahead of a gap, and the runs of seqs they
    /// make, kept as messages come and go: naming the runs in every result
    /// walked every held message, thousands behind one loss.
    struct HeldStream
    {
        std::map<std::uint64_t, Held> lines;
        std::map<std::uint64_t, std::uint64_t> runs;  ///< first seq -> last seq of each run

        void addRun(std::uint64_t seq);
        /// The lowest held seq went (delivered, or no longer needed).
        void dropLowest(std::uint64_t seq);
    };

    /// Stores msg, the next of its stream, and adds it to result (or passes
    /// it over, for a sender whose lines are not kept); false (with
    /// result.refusal set) when the store refuses it.
    bool deliver(const Msg& msg, std::int64_t receivedAtMs, Result& result);
    /// Delivers the held messages of key that follow result.position.
    void deliverHeld(const StreamKey& key, Result& result);
    /// Names key's held messages in result.held.
    void listHeld(const StreamKey& key, Result& result) const;
    void hold(const StreamKey& key, std::uint64_t position, const Msg& msg, std::int64_t receivedAtMs);
    /// Makes room for one more held stream of sender by dropping the one idle longest, if it has too many.
    void limitStreams(const std::string& sender);

    IncomingStreams& _streams;
    const LineStore& _lines;
    std::size_t _window;
    Keeps _keeps;
    std::map<StreamKey, HeldStream> _held;
    std::size_t _heldCount = 0;
    std::size_t _heldBytes = 0;
};

} // namespace peerchat
