#include "OutboxStore.h"

#include "StoreSchema.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <algorithm>

namespace peerchat {

using namespace Poco::Data::Keywords;
using storeschema::fromColumn;

OutboxStore::OutboxStore(StoreDatabase& database, LineStore& lines) : _database(database), _lines(lines)
{
    _database.load([this](Poco::Data::Session& session) { load(session); });
}

void OutboxStore::load(Poco::Data::Session& session)
{
    std::vector<std::string> peers;
    std::vector<std::string> streams;
    std::vector<Poco::Int64> lastSeqs;
    session << "SELECT peer, stream, last_seq FROM outgoing_stream", into(peers), into(streams), into(lastSeqs), now;
    for (std::size_t i = 0; i < peers.size(); ++i) _outgoingStreams[peers[i]] = {streams[i], fromColumn(lastSeqs[i])};
    for (const OutboxEntry& entry : readOutbox(session, {})) _queued[entry.peer].push_back(entry.lineId);
}

OutboxEntry OutboxStore::enqueue(const std::string& peer, const std::string& self, std::string sentTime,
                                 std::int64_t receivedAtMs, std::string text, const std::string& key)
{
    // The stream's number moves on only once the change is recorded.
    const auto cached = _outgoingStreams.find(peer);
    const bool newStream = cached == _outgoingStreams.end();
    OutboxEntry entry{peer, 0, newStream ? storeschema::randomStreamId() : cached->second.first,
                      newStream ? 1 : cached->second.second + 1, sentTime, {}};
    local::ChatLine line = _lines.add(
        local::ChatLine{0, ConversationId::direct(peer), true, self, std::move(sentTime), receivedAtMs,
                        std::move(text), local::LineState::Pending},
        false, key, {store::PutOutgoingStream{peer, entry.stream, entry.seq}},
        [&] { return "queue a line to " + peer; });
    // Recorded: the line's text moves on to the caller.
    entry.lineId = line.id;
    entry.text = std::move(line.text);
    if (newStream) {
        _outgoingStreams.emplace(peer, std::make_pair(entry.stream, entry.seq));
    } else {
        cached->second.second = entry.seq;
    }
    _queued[peer].push_back(entry.lineId);
    return entry;
}

std::vector<OutboxEntry> OutboxStore::outbox() const
{
    return _database.read([&](Poco::Data::Session& session) { return readOutbox(session, {}); });
}

std::vector<OutboxEntry> OutboxStore::outboxTo(const std::string& peer) const
{
    return _database.read([&](Poco::Data::Session& session) { return readOutbox(session, peer); });
}

std::size_t OutboxStore::queuedTo(const std::string& peer) const
{
    const auto queued = _queued.find(peer);
    return queued == _queued.end() ? 0 : queued->second.size();
}

void OutboxStore::newStream(const std::string& peer, const StoreChange& with,
                            const std::function<std::string()>& what)
{
    // The queued lines are the last of the stream: they number from 1 in it.
    std::pair<std::string, std::uint64_t> stream{storeschema::randomStreamId(), queuedTo(peer)};
    StoreChange change = with;
    change.push_back(store::PutOutgoingStream{peer, stream.first, stream.second});
    _database.record(what, change);
    _outgoingStreams[peer] = std::move(stream);
}

std::vector<std::uint64_t> OutboxStore::acknowledge(const std::string& peer, const std::string& stream,
                                                    std::uint64_t seq, local::LineState state)
{
    std::vector<std::uint64_t> changed;
    const auto queued = _queued.find(peer);
    const auto current = _outgoingStreams.find(peer);
    if (queued == _queued.end() || current == _outgoingStreams.end() || current->second.first != stream) return changed;
    std::deque<std::uint64_t>& ids = queued->second;
    // A peer's queued lines are the last of its stream, oldest first: an ack covers a prefix of them.
    const std::uint64_t firstSeq = current->second.second - ids.size() + 1;
    if (seq < firstSeq) return changed;
    const std::size_t prefix = static_cast<std::size_t>(std::min<std::uint64_t>(seq - firstSeq + 1, ids.size()));
    const std::uint64_t last = ids[prefix - 1];
    // Delivered is what the mark says of the lines it passes; another state
    // (Sent) is written into them, in one statement per run of ids. The
    // direct chat with peer is keyed by peer's name (ConversationId::key).
    StoreChange change;
    const std::string_view stateText = local::LocalProtocol::lineStateName(state);
    changed.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(prefix));
    if (state != local::LineState::Delivered) {
        for (const std::uint64_t id : changed) {
            auto* run = change.empty() ? nullptr : std::get_if<store::SetLineStates>(&change.back());
            if (run != nullptr && run->lastId + 1 == id) {
                run->lastId = id;
            } else {
                change.push_back(store::SetLineStates{peer, id, id, stateText});
            }
        }
    }
    _lines.markDelivered(ConversationId::direct(peer), last, std::move(change),
                         [&] { return "mark lines to " + peer + " " + std::string(stateText); });
    ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(prefix));
    if (ids.empty()) _queued.erase(queued);
    return changed;
}

std::vector<OutboxEntry> OutboxStore::readOutbox(Poco::Data::Session& session, const std::string& peer) const
{
    std::vector<std::string> peers;
    std::vector<Poco::Int64> lineIds;
    std::vector<std::string> sentTimes;
    std::vector<std::string> texts;
    Poco::Data::Statement select(session);
    select << "SELECT peer, id, sent_time, text FROM line WHERE " +
                  storeschema::queuedLine(storeschema::kMarkOfLine) +
                  (peer.empty() ? std::string() : " AND peer = ?") + " ORDER BY peer, id",
        into(peers), into(lineIds), into(sentTimes), into(texts);
    if (!peer.empty()) select, bind(peer);
    select.execute();
    std::vector<OutboxEntry> entries;
    entries.reserve(peers.size());
    // A peer's queued lines are the last of its stream, in the order of their ids.
    for (std::size_t first = 0; first < peers.size();) {
        std::size_t end = first;
        while (end < peers.size() && peers[end] == peers[first]) ++end;
        const auto stream = _outgoingStreams.find(peers[first]);
        if (stream == _outgoingStreams.end() || stream->second.second < end - first) {
            throw Poco::DataFormatException("the lines queued to " + peers[first] + " do not match their stream");
        }
        std::uint64_t seq = stream->second.second - (end - first);
        for (std::size_t i = first; i < end; ++i) {
            entries.push_back(OutboxEntry{peers[i], fromColumn(lineIds[i]), stream->second.first, ++seq,
                                          std::move(sentTimes[i]), std::move(texts[i])});
        }
        first = end;
    }
    return entries;
}

} // namespace peerchat
