#include "LineStore.h"

#include "StoreSchema.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <limits>

namespace peerchat {

using namespace Poco::Data::Keywords;
using storeschema::fromColumn;
using storeschema::lineSelect;
using storeschema::toColumn;

namespace {

// The state a stored name stands for; a name this peerd does not know reads
// as a line without state does on the local socket: by its direction.
local::LineState stateNamed(const std::string& name, bool outgoing)
{
    using local::LineState;
    for (const LineState state : {LineState::Received, LineState::Sent, LineState::Pending, LineState::Stored,
                                  LineState::Delivered, LineState::Failed}) {
        if (local::LocalProtocol::lineStateName(state) == name) return state;
    }
    return outgoing ? LineState::Sent : LineState::Received;
}

// Runs a SELECT of kLineColumns and returns its rows as lines with peer.
std::vector<local::ChatLine> readLines(Poco::Data::Statement& select, const std::string& peer)
{
    std::vector<Poco::Int64> ids;
    std::vector<int> outgoing;
    std::vector<std::string> senders;
    std::vector<std::string> sentTimes;
    std::vector<Poco::Int64> receivedAt;
    std::vector<std::string> texts;
    std::vector<std::string> states;
    std::vector<int> verified;
    select, into(ids), into(outgoing), into(senders), into(sentTimes), into(receivedAt), into(texts), into(states),
        into(verified);
    select.execute();
    std::vector<local::ChatLine> lines;
    lines.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        lines.push_back(local::ChatLine{fromColumn(ids[i]), peer, outgoing[i] != 0, senders[i], sentTimes[i],
                                        receivedAt[i], texts[i], stateNamed(states[i], outgoing[i] != 0),
                                        verified[i] != 0});
    }
    return lines;
}

} // namespace

LineStore::LineStore(StoreDatabase& database, std::size_t historyLimit)
    : _database(database), _historyLimit(historyLimit)
{
    _database.load([this](Poco::Data::Session& session) { load(session); });
}

void LineStore::load(Poco::Data::Session& session)
{
    // A smaller historyLimit than the database was kept with applies at once (to lines no longer queued).
    session << "DELETE FROM line WHERE id <= (SELECT last_id FROM conversation c WHERE c.peer = line.peer) - ? "
               "AND NOT " + storeschema::queuedLine(storeschema::kMarkOfLine),
        bind(toColumn(_historyLimit)), now;
    {
        std::vector<std::string> peers;
        std::vector<Poco::Int64> lastIds;
        std::vector<Poco::Int64> unread;
        session << "SELECT peer, last_id, unread FROM conversation", into(peers), into(lastIds), into(unread), now;
        for (std::size_t i = 0; i < peers.size(); ++i) {
            const Poco::Int64 count =
                std::clamp<Poco::Int64>(unread[i], 0, std::numeric_limits<std::uint32_t>::max());
            _conversations[peers[i]] = Conversation{fromColumn(lastIds[i]), static_cast<std::uint32_t>(count)};
        }
    }
    {
        std::vector<std::string> peers;
        std::vector<Poco::Int64> lineIds;
        session << "SELECT peer, line_id FROM delivered", into(peers), into(lineIds), now;
        for (std::size_t i = 0; i < peers.size(); ++i) _delivered[peers[i]] = fromColumn(lineIds[i]);
    }
    {
        std::vector<std::string> peers;
        std::vector<Poco::Int64> ids;
        std::vector<std::string> keys;
        session << "SELECT peer, id, send_key FROM line WHERE send_key IS NOT NULL", into(peers), into(ids),
            into(keys), now;
        for (std::size_t i = 0; i < peers.size(); ++i) {
            SendKeys& kept = _sendKeys[peers[i]];
            kept.byKey[keys[i]] = fromColumn(ids[i]);
            kept.byId[fromColumn(ids[i])] = keys[i];
        }
    }
}

LineStore::StoredLine LineStore::newLine(local::ChatLine line, bool unread, const std::string& key) const
{
    if (!key.empty()) {
        const auto kept = _sendKeys.find(line.peer);
        if (kept != _sendKeys.end() && kept->second.byKey.count(key) != 0)
            throw Poco::IOException("the key " + key + " is already used in the conversation with " + line.peer);
    }
    const auto cached = _conversations.find(line.peer);
    Conversation conversation = cached == _conversations.end() ? Conversation{} : cached->second;
    line.id = ++conversation.lastId;
    if (unread && conversation.unread < std::numeric_limits<std::uint32_t>::max()) ++conversation.unread;
    return StoredLine{std::move(line), conversation, key};
}

StoreChange LineStore::lineChange(const StoredLine& stored) const
{
    const local::ChatLine& line = stored.line;
    StoreChange change;
    // The line's operations and the stream's that goes with it (add()): no change grows past its first room.
    change.reserve(5);
    change.push_back(store::PutLine{line.peer, line.id, line.outgoing, line.from, line.sentTime, line.receivedAtMs,
                                    line.text, local::LocalProtocol::lineStateName(line.state), line.verified,
                                    stored.key});
    change.push_back(store::PutConversation{line.peer, stored.conversation.lastId, stored.conversation.unread});
    if (line.id > _historyLimit)
        change.push_back(store::TrimUnqueued{line.peer, line.id - _historyLimit, deliveredMark(line.peer)});
    return change;
}

void LineStore::keep(const StoredLine& stored)
{
    const std::string& peer = stored.line.peer;
    _conversations[peer] = stored.conversation;
    const auto kept = _sendKeys.find(peer);
    if (stored.key.empty() && kept == _sendKeys.end()) return;
    SendKeys& keys = kept == _sendKeys.end() ? _sendKeys[peer] : kept->second;
    if (!stored.key.empty()) {
        keys.byKey[stored.key] = stored.line.id;
        keys.byId[stored.line.id] = stored.key;
    }
    // A key goes with its line when the line falls past historyLimit, unless it waits in the outbox.
    const std::uint64_t delivered = deliveredMark(peer);
    while (!keys.byId.empty() && keys.byId.begin()->first + _historyLimit <= stored.line.id &&
           keys.byId.begin()->first <= delivered) {
        keys.byKey.erase(keys.byId.begin()->second);
        keys.byId.erase(keys.byId.begin());
    }
}

local::ChatLine LineStore::addIncoming(const std::string& peer, std::string sentTime, std::int64_t receivedAtMs,
                                       std::string text, bool verified)
{
    return add(local::ChatLine{0, peer, false, peer, std::move(sentTime), receivedAtMs, std::move(text),
                               local::LineState::Received, verified},
               true, {}, {}, [&] { return "store a line from " + peer; });
}

local::ChatLine LineStore::addOutgoing(const std::string& peer, const std::string& self, std::string sentTime,
                                       std::int64_t receivedAtMs, std::string text, const std::string& key)
{
    return add(local::ChatLine{0, peer, true, self, std::move(sentTime), receivedAtMs, std::move(text),
                               local::LineState::Sent},
               false, key, {}, [&] { return "store a line to " + peer; });
}

local::ChatLine LineStore::add(local::ChatLine line, bool unread, const std::string& key,
                               std::initializer_list<store::Op> with,
                               const std::function<std::string()>& what)
{
    StoredLine stored = newLine(std::move(line), unread, key);
    StoreChange change = lineChange(stored);
    change.insert(change.end(), with);
    _database.record(what, change);
    keep(stored);
    return std::move(stored.line);
}

std::optional<local::ChatLine> LineStore::lineWithKey(const std::string& peer, const std::string& key) const
{
    // The keys are kept in memory: a send that is not repeated (nearly every one) never reads the database.
    const auto kept = _sendKeys.find(peer);
    if (kept == _sendKeys.end() || kept->second.byKey.count(key) == 0) return std::nullopt;
    std::vector<local::ChatLine> lines = _database.read([&](Poco::Data::Session& session) {
        Poco::Data::Statement select(session);
        select << "SELECT " + lineSelect() + " FROM line WHERE peer = ? AND send_key = ?", bind(peer), bind(key);
        return readLines(select, peer);
    });
    if (lines.empty()) return std::nullopt;
    return std::move(lines.front());
}

std::uint64_t LineStore::deliveredMark(const std::string& peer) const
{
    const auto it = _delivered.find(peer);
    return it == _delivered.end() ? 0 : it->second;
}

void LineStore::markDelivered(const std::string& peer, std::uint64_t lineId, StoreChange with,
                              const std::function<std::string()>& what)
{
    with.push_back(store::MarkDelivered{peer, lineId});
    _database.record(what, with);
    _delivered[peer] = lineId;
}

bool LineStore::lineKept(const std::string& peer, std::uint64_t id) const
{
    // Ids are given out from 1 without gaps; only the newest historyLimit
    // are kept, and the queued lines past the delivered mark.
    const auto conversation = _conversations.find(peer);
    return conversation != _conversations.end() && id >= 1 && id <= conversation->second.lastId &&
           (id + _historyLimit > conversation->second.lastId || id > deliveredMark(peer));
}

bool LineStore::setState(const std::string& peer, std::uint64_t id, local::LineState state)
{
    if (!lineKept(peer, id)) return false;
    _database.record([&] { return "change the state of a line to " + peer; },
                     StoreChange{store::SetLineStates{peer, id, id, local::LocalProtocol::lineStateName(state)}});
    return true;
}

std::vector<local::ChatLine> LineStore::history(const std::string& peer) const
{
    return _database.read([&](Poco::Data::Session& session) {
        Poco::Data::Statement select(session);
        select << "SELECT " + lineSelect() + " FROM line WHERE peer = ? ORDER BY id", bind(peer);
        return readLines(select, peer);
    });
}

std::vector<local::ChatLine> LineStore::search(const std::string& peer, const std::string& text,
                                                       std::size_t limit) const
{
    std::vector<local::ChatLine> found = _database.read([&](Poco::Data::Session& session) {
        Poco::Data::Statement select(session);
        // instr() matches bytewise and case-sensitively, with no pattern characters to escape.
        select << "SELECT " + lineSelect() +
                      " FROM line WHERE peer = ? AND instr(text, ?) > 0 ORDER BY id DESC LIMIT ?",
            bind(peer), bind(text),
            bind(toColumn(std::min<std::uint64_t>(limit, std::numeric_limits<Poco::Int64>::max())));
        return readLines(select, peer);
    });
    std::reverse(found.begin(), found.end());
    return found;
}

std::uint32_t LineStore::unread(const std::string& peer) const
{
    const auto it = _conversations.find(peer);
    return it == _conversations.end() ? 0 : it->second.unread;
}

std::map<std::string, std::uint32_t> LineStore::unreadCounts() const
{
    std::map<std::string, std::uint32_t> counts;
    for (const auto& [peer, conversation] : _conversations) {
        if (conversation.unread > 0) counts.emplace(peer, conversation.unread);
    }
    return counts;
}

void LineStore::markRead(const std::string& peer)
{
    const auto it = _conversations.find(peer);
    if (it == _conversations.end() || it->second.unread == 0) return;
    _database.record([&] { return "mark the lines from " + peer + " read"; },
                     StoreChange{store::PutConversation{peer, it->second.lastId, 0}});
    it->second.unread = 0;
}

} // namespace peerchat
