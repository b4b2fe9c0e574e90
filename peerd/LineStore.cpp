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

// Runs a SELECT of kLineColumns and returns its rows as lines of conversation.
std::vector<local::ChatLine> readLines(Poco::Data::Statement& select, const ConversationId& conversation)
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
        lines.push_back(local::ChatLine{fromColumn(ids[i]), conversation, outgoing[i] != 0, senders[i], sentTimes[i],
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
        std::vector<std::string> keys;
        std::vector<Poco::Int64> lastIds;
        std::vector<Poco::Int64> unread;
        session << "SELECT peer, last_id, unread FROM conversation", into(keys), into(lastIds), into(unread), now;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const Poco::Int64 count =
                std::clamp<Poco::Int64>(unread[i], 0, std::numeric_limits<std::uint32_t>::max());
            _conversations[conversationOf(keys[i])] =
                Conversation{fromColumn(lastIds[i]), static_cast<std::uint32_t>(count)};
        }
    }
    {
        std::vector<std::string> keys;
        std::vector<Poco::Int64> lineIds;
        session << "SELECT peer, line_id FROM delivered", into(keys), into(lineIds), now;
        for (std::size_t i = 0; i < keys.size(); ++i) _delivered[conversationOf(keys[i])] = fromColumn(lineIds[i]);
    }
    {
        std::vector<std::string> conversations;
        std::vector<Poco::Int64> ids;
        std::vector<std::string> keys;
        session << "SELECT peer, id, send_key FROM line WHERE send_key IS NOT NULL", into(conversations), into(ids),
            into(keys), now;
        for (std::size_t i = 0; i < conversations.size(); ++i) {
            SendKeys& kept = _sendKeys[conversationOf(conversations[i])];
            kept.byKey[keys[i]] = fromColumn(ids[i]);
            kept.byId[fromColumn(ids[i])] = keys[i];
        }
    }
}

ConversationId LineStore::conversationOf(const std::string& key)
{
    std::optional<ConversationId> conversation = ConversationId::fromKey(key);
    if (!conversation) throw Poco::DataFormatException("the conversation '" + key + "' is damaged");
    return std::move(*conversation);
}

LineStore::StoredLine LineStore::newLine(local::ChatLine line, bool unread, const std::string& key) const
{
    if (!key.empty()) {
        const auto kept = _sendKeys.find(line.conversation);
        if (kept != _sendKeys.end() && kept->second.byKey.count(key) != 0) {
            throw Poco::IOException("the key " + key + " is already used in the conversation with " +
                                    line.conversation.describe());
        }
    }
    const auto cached = _conversations.find(line.conversation);
    Conversation conversation = cached == _conversations.end() ? Conversation{} : cached->second;
    line.id = ++conversation.lastId;
    if (unread && conversation.unread < std::numeric_limits<std::uint32_t>::max()) ++conversation.unread;
    std::string conversationKey = line.conversation.key();
    return StoredLine{std::move(line), std::move(conversationKey), conversation, key};
}

StoreChange LineStore::lineChange(const StoredLine& stored) const
{
    const local::ChatLine& line = stored.line;
    const std::string& key = stored.conversationKey;
    StoreChange change;
    // The line's operations and the stream's that goes with it (add()): no change grows past its first room.
    change.reserve(5);
    change.push_back(store::PutLine{key, line.id, line.outgoing, line.from, line.sentTime, line.receivedAtMs,
                                    line.text, local::LocalProtocol::lineStateName(line.state), line.verified,
                                    stored.key});
    change.push_back(store::PutConversation{key, stored.conversation.lastId, stored.conversation.unread});
    if (line.id > _historyLimit)
        change.push_back(store::TrimUnqueued{key, line.id - _historyLimit, deliveredMark(line.conversation)});
    return change;
}

void LineStore::keep(const StoredLine& stored)
{
    const ConversationId& conversation = stored.line.conversation;
    _conversations[conversation] = stored.conversation;
    const auto kept = _sendKeys.find(conversation);
    if (stored.key.empty() && kept == _sendKeys.end()) return;
    SendKeys& keys = kept == _sendKeys.end() ? _sendKeys[conversation] : kept->second;
    if (!stored.key.empty()) {
        keys.byKey[stored.key] = stored.line.id;
        keys.byId[stored.line.id] = stored.key;
    }
    // A key goes with its line when the line falls past historyLimit, unless it waits in the outbox.
    const std::uint64_t delivered = deliveredMark(conversation);
    while (!keys.byId.empty() && keys.byId.begin()->first + _historyLimit <= stored.line.id &&
           keys.byId.begin()->first <= delivered) {
        keys.byKey.erase(keys.byId.begin()->second);
        keys.byId.erase(keys.byId.begin());
    }
}

local::ChatLine LineStore::addIncoming(const std::string& peer, std::string sentTime, std::int64_t receivedAtMs,
                                       std::string text, bool verified)
{
    return add(local::ChatLine{0, ConversationId::direct(peer), false, peer, std::move(sentTime), receivedAtMs,
                               std::move(text), local::LineState::Received, verified},
               true, {}, {}, [&] { return "store a line from " + peer; });
}

local::ChatLine LineStore::addOutgoing(const ConversationId& conversation, const std::string& self,
                                       std::string sentTime, std::int64_t receivedAtMs, std::string text,
                                       const std::string& key)
{
    return add(local::ChatLine{0, conversation, true, self, std::move(sentTime), receivedAtMs, std::move(text),
                               local::LineState::Sent},
               false, key, {}, [&] { return "store a line to " + conversation.describe(); });
}

local::ChatLine LineStore::add(local::ChatLine line, bool unread, const std::string& key,
                               std::initializer_list<store::Op> with, const std::function<std::string()>& what)
{
    StoredLine stored = newLine(std::move(line), unread, key);
    StoreChange change = lineChange(stored);
    change.insert(change.end(), with);
    _database.record(what, change);
    keep(stored);
    return std::move(stored.line);
}

std::optional<local::ChatLine> LineStore::lineWithKey(const ConversationId& conversation,
                                                      const std::string& key) const
{
    // The keys are kept in memory: a send that is not repeated (nearly every one) never reads the database.
    const auto kept = _sendKeys.find(conversation);
    if (kept == _sendKeys.end() || kept->second.byKey.count(key) == 0) return std::nullopt;
    std::vector<local::ChatLine> lines = _database.read([&](Poco::Data::Session& session) {
        Poco::Data::Statement select(session);
        select << "SELECT " + lineSelect() + " FROM line WHERE peer = ? AND send_key = ?", bind(conversation.key()),
            bind(key);
        return readLines(select, conversation);
    });
    if (lines.empty()) return std::nullopt;
    return std::move(lines.front());
}

std::uint64_t LineStore::deliveredMark(const ConversationId& conversation) const
{
    const auto it = _delivered.find(conversation);
    return it == _delivered.end() ? 0 : it->second;
}

void LineStore::markDelivered(const ConversationId& conversation, std::uint64_t lineId, StoreChange with,
                              const std::function<std::string()>& what)
{
    const std::string key = conversation.key();
    with.push_back(store::MarkDelivered{key, lineId});
    _database.record(what, with);
    _delivered[conversation] = lineId;
}

bool LineStore::lineKept(const ConversationId& conversation, std::uint64_t id) const
{
    // Ids are given out from 1 without gaps; only the newest historyLimit
    // are kept, and the queued lines past the delivered mark.
    const auto counters = _conversations.find(conversation);
    return counters != _conversations.end() && id >= 1 && id <= counters->second.lastId &&
           (id + _historyLimit > counters->second.lastId || id > deliveredMark(conversation));
}

bool LineStore::setState(const ConversationId& conversation, std::uint64_t id, local::LineState state)
{
    if (!lineKept(conversation, id)) return false;
    const std::string key = conversation.key();
    _database.record([&] { return "change the state of a line to " + conversation.describe(); },
                     StoreChange{store::SetLineStates{key, id, id, local::LocalProtocol::lineStateName(state)}});
    return true;
}

std::vector<local::ChatLine> LineStore::history(const ConversationId& conversation) const
{
    return _database.read([&](Poco::Data::Session& session) {
        Poco::Data::Statement select(session);
        select << "SELECT " + lineSelect() + " FROM line WHERE peer = ? ORDER BY id", bind(conversation.key());
        return readLines(select, conversation);
    });
}

std::vector<local::ChatLine> LineStore::search(const ConversationId& conversation, const std::string& text,
                                               std::size_t limit) const
{
    std::vector<local::ChatLine> found = _database.read([&](Poco::Data::Session& session) {
        Poco::Data::Statement select(session);
        // instr() matches bytewise and case-sensitively, with no pattern characters to escape.
        select << "SELECT " + lineSelect() +
                      " FROM line WHERE peer = ? AND instr(text, ?) > 0 ORDER BY id DESC LIMIT ?",
            bind(conversation.key()), bind(text),
            bind(toColumn(std::min<std::uint64_t>(limit, std::numeric_limits<Poco::Int64>::max())));
        return readLines(select, conversation);
    });
    std::reverse(found.begin(), found.end());
    return found;
}

std::uint32_t LineStore::unread(const ConversationId& conversation) const
{
    const auto it = _conversations.find(conversation);
    return it == _conversations.end() ? 0 : it->second.unread;
}

std::map<ConversationId, std::uint32_t> LineStore::unreadCounts() const
{
    std::map<ConversationId, std::uint32_t> counts;
    for (const auto& [conversation, counters] : _conversations) {
        if (counters.unread > 0) counts.emplace(conversation, counters.unread);
    }
    return counts;
}

void LineStore::markRead(const ConversationId& conversation)
{
    const auto it = _conversations.find(conversation);
    if (it == _conversations.end() || it->second.unread == 0) return;
    const std::string key = conversation.key();
    _database.record([&] { return "mark the lines of " + conversation.describe() + " read"; },
                     StoreChange{store::PutConversation{key, it->second.lastId, 0}});
    it->second.unread = 0;
}

} // namespace peerchat
