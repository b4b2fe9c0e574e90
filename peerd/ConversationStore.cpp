#include "ConversationStore.h"

#include "Base64.h"
#include "DataPath.h"

#include <Poco/Data/DataException.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <Poco/Nullable.h>

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <random>
#include <unistd.h>

namespace peerchat {

POCO_IMPLEMENT_EXCEPTION(DiskFullException, Poco::IOException, "Disk full")

using namespace Poco::Data::Keywords;

namespace {

const std::string kInMemory = ":memory:";

// The columns readLines() extracts, in its order.
const std::string kLineColumns = "id, outgoing, sender, sent_time, received_at_ms, text, state, verified";

// migrations()[v] moves a database from schema version v to v + 1. A step
// that has shipped never changes; a new schema is a new step at the end.
const std::vector<std::vector<std::string>>& migrations()
{
    static const std::vector<std::vector<std::string>> steps{
        {
            // last_id is the newest id given out, so ids go on after old lines are dropped.
            "CREATE TABLE conversation (peer TEXT PRIMARY KEY, last_id INTEGER NOT NULL, unread INTEGER NOT NULL)",
            "CREATE TABLE line (peer TEXT NOT NULL, id INTEGER NOT NULL, outgoing INTEGER NOT NULL, "
            "sender TEXT NOT NULL, sent_time TEXT NOT NULL, received_at_ms INTEGER NOT NULL, text TEXT NOT NULL, "
            "state TEXT NOT NULL, PRIMARY KEY (peer, id)) WITHOUT ROWID",
            "CREATE TABLE outgoing_stream (peer TEXT PRIMARY KEY, stream TEXT NOT NULL, last_seq INTEGER NOT NULL)",
            // position keeps the outbox in the order lines were queued.
            "CREATE TABLE outbox (position INTEGER PRIMARY KEY, peer TEXT NOT NULL, line_id INTEGER NOT NULL, "
            "stream TEXT NOT NULL, seq INTEGER NOT NULL, sent_time TEXT NOT NULL, text TEXT NOT NULL)",
            "CREATE TABLE incoming_stream (sender TEXT NOT NULL, stream TEXT NOT NULL, delivered INTEGER NOT NULL, "
            "PRIMARY KEY (sender, stream)) WITHOUT ROWID",
        },
        {
            // Lines stored before peerchat/2 came over the plain protocol, where nothing proved the sender.
            "ALTER TABLE line ADD COLUMN verified INTEGER NOT NULL DEFAULT 0",
            // Keys as base64url text; offered is NULL unless indexd presents another key than the pinned one.
            "CREATE TABLE keys (name TEXT PRIMARY KEY, pinned TEXT NOT NULL, offered TEXT)",
            "CREATE TABLE index_keys (endpoint TEXT PRIMARY KEY, key TEXT NOT NULL)",
        },
        {
            // The key a client sent a line with (NULL: none), so that a send repeated
            // after a crash finds the line the first one stored.
            "ALTER TABLE line ADD COLUMN send_key TEXT",
            "CREATE UNIQUE INDEX line_send_key ON line (peer, send_key) WHERE send_key IS NOT NULL",
        },
        {
            // 'offered' while a pinned name comes without a key, 'accepted' once
            // the user took it as a seed user; NULL otherwise (every pin so far).
            "ALTER TABLE keys ADD COLUMN keyless TEXT",
        },
    };
    return steps;
}

std::string randomStreamId()
{
    std::random_device device;
    const std::uint64_t value = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

std::string stateName(local::LineState state)
{
    return std::string(local::LocalProtocol::lineStateName(state));
}

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

// SQLite keeps integers signed; every count and id here stays below 2^63.
Poco::Int64 toColumn(std::uint64_t value)
{
    return static_cast<Poco::Int64>(value);
}

std::uint64_t fromColumn(Poco::Int64 value)
{
    return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}

// Poco repeats SQLite's own words ("database is locked: database is locked"): once is enough.
std::string reasonOf(const Poco::Exception& e)
{
    const std::string& message = e.message();
    if (message.empty()) return e.displayText();
    const std::size_t half = (message.size() - 2) / 2;
    if (message.size() % 2 == 0 && message.compare(half, 2, ": ") == 0 &&
        message.compare(0, half, message, half + 2, half) == 0)
        return message.substr(0, half);
    return message;
}

// Makes the database's directory (mode 0700) and, when missing, the file itself
// (mode 0600): the journal files SQLite adds beside it take the file's mode.
void prepareFile(const std::string& path)
{
    DataPath::ensureDirectory(path, "database");
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw Poco::IOException(std::string(std::strerror(errno)) + "; pass another --database");
    ::close(fd);
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

// The key a keys or index_keys column holds; throws Poco::DataFormatException
// naming what when the text is not a base64url key of 32 bytes.
PublicKey keyColumn(const std::string& text, const std::string& what)
{
    PublicKey key{};
    if (!Base64::decodeInto(text, key)) throw Poco::DataFormatException("the stored key of " + what + " is damaged");
    return key;
}

Poco::Nullable<std::string> keylessText(KeyPin::Keyless keyless)
{
    switch (keyless) {
    case KeyPin::Keyless::Offered: return std::string("offered");
    case KeyPin::Keyless::Accepted: return std::string("accepted");
    case KeyPin::Keyless::None: break;
    }
    return {};
}

// The keys table's keyless column; throws Poco::DataFormatException naming
// what for a value no peerd writes.
KeyPin::Keyless keylessColumn(const Poco::Nullable<std::string>& text, const std::string& what)
{
    if (text.isNull()) return KeyPin::Keyless::None;
    for (const KeyPin::Keyless keyless : {KeyPin::Keyless::Offered, KeyPin::Keyless::Accepted}) {
        if (keylessText(keyless).value() == text.value()) return keyless;
    }
    throw Poco::DataFormatException("the stored pin of " + what + " is damaged");
}

} // namespace

ConversationStore::ConversationStore(const std::string& path, std::size_t historyLimit)
    : _path(path), _historyLimit(historyLimit), _logger(Poco::Logger::get("peerd.store"))
{
    try {
        open();
        migrate();
        load();
    } catch (const Poco::Data::SQLite::DBLockedException&) {
        throw Poco::IOException("cannot open " + _path +
                                ": another peerd is using it; stop that peerd or pass another --database");
    } catch (const DiskFullException&) {
        throw Poco::IOException(cannotOpenFull());
    } catch (const Poco::Data::DataException& e) {
        if (diskFull(e)) throw Poco::IOException(cannotOpenFull());
        throw Poco::IOException("cannot open " + _path + ": " + reasonOf(e) +
                                "; move it aside or pass another --database");
    } catch (const Poco::Exception& e) {
        throw Poco::IOException("cannot open " + _path + ": " + e.message());
    }
}

ConversationStore::ConversationStore(std::size_t historyLimit) : ConversationStore(kInMemory, historyLimit)
{
}

ConversationStore::~ConversationStore() = default;

void ConversationStore::open()
{
    [[maybe_unused]] static const bool registered = (Poco::Data::SQLite::Connector::registerConnector(), true);
    if (_path != kInMemory) prepareFile(_path);
    _session = std::make_unique<Poco::Data::Session>(Poco::Data::SQLite::Connector::KEY, _path);
    _db = Poco::Data::SQLite::Utility::dbHandle(*_session);
    // Fail at once, not after a wait, when another process holds the database.
    _session->setConnectionTimeout(0);
    std::string mode;
    // Held until the session closes: a second peerd on the same file is refused
    // rather than let the two give out the same line ids.
    *_session << "PRAGMA locking_mode = EXCLUSIVE", into(mode), now;
    // With the write-ahead log and synchronous NORMAL a commit is in the
    // operating system's hands when it returns: it survives a crash of peerd
    // (kill -9), though a power cut may lose the last commits.
    *_session << "PRAGMA journal_mode = WAL", into(mode), now;
    *_session << "PRAGMA synchronous = NORMAL", now;
}

void ConversationStore::migrate()
{
    int version = 0;
    *_session << "PRAGMA user_version", into(version), now;
    if (version > kSchemaVersion) {
        throw Poco::IOException("it was written by a newer peerd (schema version " + std::to_string(version) +
                                "; this peerd knows up to " + std::to_string(kSchemaVersion) +
                                "); run that newer peerd, or pass another --database");
    }
    for (; version < kSchemaVersion; ++version) {
        transact([&] {
            for (const std::string& statement : migrations().at(static_cast<std::size_t>(version))) {
                *_session << statement, now;
            }
            *_session << "PRAGMA user_version = " + std::to_string(version + 1), now;
        });
    }
}

void ConversationStore::load()
{
    // A smaller historyLimit than the database was kept with applies at once.
    *_session << "DELETE FROM line WHERE id <= (SELECT last_id FROM conversation c WHERE c.peer = line.peer) - ?",
        bind(toColumn(_historyLimit)), now;
    {
        std::vector<std::string> peers;
        std::vector<Poco::Int64> lastIds;
        std::vector<Poco::Int64> unread;
        *_session << "SELECT peer, last_id, unread FROM conversation", into(peers), into(lastIds), into(unread), now;
        for (std::size_t i = 0; i < peers.size(); ++i) {
            const Poco::Int64 count =
                std::clamp<Poco::Int64>(unread[i], 0, std::numeric_limits<std::uint32_t>::max());
            _conversations[peers[i]] = Conversation{fromColumn(lastIds[i]), static_cast<std::uint32_t>(count)};
        }
    }
    {
        std::vector<std::string> peers;
        std::vector<std::string> streams;
        std::vector<Poco::Int64> lastSeqs;
        *_session << "SELECT peer, stream, last_seq FROM outgoing_stream", into(peers), into(streams), into(lastSeqs),
            now;
        for (std::size_t i = 0; i < peers.size(); ++i)
            _outgoingStreams[peers[i]] = {streams[i], fromColumn(lastSeqs[i])};
    }
    {
        std::vector<std::string> peers;
        std::vector<Poco::Int64> lineIds;
        std::vector<std::string> streams;
        std::vector<Poco::Int64> seqs;
        std::vector<std::string> sentTimes;
        std::vector<std::string> texts;
        *_session << "SELECT peer, line_id, stream, seq, sent_time, text FROM outbox ORDER BY position", into(peers),
            into(lineIds), into(streams), into(seqs), into(sentTimes), into(texts), now;
        for (std::size_t i = 0; i < peers.size(); ++i) {
            _outbox.push_back(OutboxEntry{peers[i], fromColumn(lineIds[i]), streams[i], fromColumn(seqs[i]),
                                          sentTimes[i], texts[i]});
        }
    }
    {
        std::vector<std::string> senders;
        std::vector<std::string> streams;
        std::vector<Poco::Int64> delivered;
        *_session << "SELECT sender, stream, delivered FROM incoming_stream", into(senders), into(streams),
            into(delivered), now;
        for (std::size_t i = 0; i < senders.size(); ++i)
            _incomingStreams[{senders[i], streams[i]}] = fromColumn(delivered[i]);
    }
}

// Poco::Data::Transaction is not used: when COMMIT fails after SQLite has
// rolled back by itself (as it does on a full disk), its session keeps
// believing a transaction is open and refuses every later one ("Transaction
// in progress") until the program restarts.
template <typename Write>
void ConversationStore::transact(Write&& write)
{
    rollBack();
    try {
        *_session << "BEGIN", now;
        write();
        *_session << "COMMIT", now;
    } catch (const Poco::Exception& e) {
        // Asked before the rollback, which may reset what SQLite knows of the failure.
        const bool full = diskFull(e);
        rollBack();
        if (full) throw DiskFullException("the disk holding " + _path + " is full");
        throw;
    } catch (...) {
        rollBack();
        throw;
    }
}

template <typename Write>
void ConversationStore::commit(const std::string& what, Write&& write)
{
    try {
        transact(std::forward<Write>(write));
    } catch (const DiskFullException& e) {
        _logger.debug("cannot " + what + ": " + e.message());
        noteFailure(e.message(), true);
        throw;
    } catch (const Poco::Exception& e) {
        const std::string reason = reasonOf(e);
        _logger.debug("cannot " + what + " in " + _path + ": " + reason);
        noteFailure(reason, false);
        throw Poco::IOException("cannot " + what + " in " + _path + ": " + reason);
    }
    noteSuccess();
}

void ConversationStore::rollBack() noexcept
{
    // SQLite rolls back by itself on some errors (a full disk among them); a
    // ROLLBACK then would only fail. One that fails leaves the transaction
    // open, and the next transact() tries again.
    if (_db != nullptr && sqlite3_get_autocommit(_db) == 0) sqlite3_exec(_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

bool ConversationStore::diskFull(const Poco::Exception& failure) const
{
    if (dynamic_cast<const Poco::Data::SQLite::DatabaseFullException*>(&failure) != nullptr) return true;
    // SQLite reports most writes that meet ENOSPC as SQLITE_FULL, but some
    // (growing a file, syncing it) as an I/O error: errno tells.
    if (dynamic_cast<const Poco::Data::SQLite::IOErrorException*>(&failure) == nullptr || _db == nullptr) return false;
    const int error = sqlite3_system_errno(_db);
    return error == ENOSPC || error == EDQUOT;
}

std::string ConversationStore::cannotOpenFull() const
{
    return "cannot open " + _path + ": the disk holding it is full; free some space and start peerd again";
}

void ConversationStore::noteFailure(const std::string& reason, bool full)
{
    ++_failedWrites;
    if (reason == _loggedFailure) return;
    _loggedFailure = reason;
    if (full) {
        _logger.warning(reason + ": until it has room, sends are refused, lines from peerchat peers wait unacked "
                                 "with their senders, acks of lines sent are not kept (the lines stay queued), and "
                                 "plain talk from seed and .NET clients is lost; free some space. Further failed "
                                 "writes are counted, not logged one by one");
    } else {
        _logger.warning("writes to " + _path + " fail: " + reason +
                        "; further failures for this reason are counted, not logged one by one");
    }
}

void ConversationStore::noteSuccess()
{
    if (_failedWrites == 0) return;
    _logger.notice("writes to " + _path + " work again; " + std::to_string(_failedWrites) + " failed meanwhile");
    _failedWrites = 0;
    _loggedFailure.clear();
}

std::pair<local::ChatLine, ConversationStore::Conversation> ConversationStore::insertLine(local::ChatLine line,
                                                                                        bool unread,
                                                                                        const std::string& key)
{
    const auto cached = _conversations.find(line.peer);
    Conversation conversation = cached == _conversations.end() ? Conversation{} : cached->second;
    line.id = ++conversation.lastId;
    if (unread && conversation.unread < std::numeric_limits<std::uint32_t>::max()) ++conversation.unread;
    const Poco::Nullable<std::string> sendKey =
        key.empty() ? Poco::Nullable<std::string>() : Poco::Nullable<std::string>(key);
    *_session << "INSERT INTO line (peer, " + kLineColumns + ", send_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        bind(line.peer), bind(toColumn(line.id)), bind(line.outgoing ? 1 : 0), bind(line.from), bind(line.sentTime),
        bind(static_cast<Poco::Int64>(line.receivedAtMs)), bind(line.text), bind(stateName(line.state)),
        bind(line.verified ? 1 : 0), bind(sendKey), now;
    *_session << "INSERT OR REPLACE INTO conversation (peer, last_id, unread) VALUES (?, ?, ?)", bind(line.peer),
        bind(toColumn(conversation.lastId)), bind(static_cast<Poco::Int64>(conversation.unread)), now;
    if (line.id > _historyLimit) {
        *_session << "DELETE FROM line WHERE peer = ? AND id <= ?", bind(line.peer),
            bind(toColumn(line.id - _historyLimit)), now;
    }
    return {std::move(line), conversation};
}

local::ChatLine ConversationStore::addIncoming(const std::string& peer, std::string sentTime,
                                               std::int64_t receivedAtMs, std::string text, bool verified)
{
    std::pair<local::ChatLine, Conversation> stored;
    commit("store a line from " + peer, [&] {
        stored = insertLine(local::ChatLine{0, peer, false, peer, std::move(sentTime), receivedAtMs, std::move(text),
                                            local::LineState::Received, verified},
                            true);
    });
    _conversations[peer] = stored.second;
    return stored.first;
}

local::ChatLine ConversationStore::addOutgoing(const std::string& peer, const std::string& self,
                                               std::string sentTime, std::int64_t receivedAtMs, std::string text,
                                               const std::string& key)
{
    std::pair<local::ChatLine, Conversation> stored;
    commit("store a line to " + peer, [&] {
        stored = insertLine(local::ChatLine{0, peer, true, self, std::move(sentTime), receivedAtMs, std::move(text),
                                            local::LineState::Sent},
                            false, key);
    });
    _conversations[peer] = stored.second;
    return stored.first;
}

OutboxEntry ConversationStore::enqueue(const std::string& peer, const std::string& self, std::string sentTime,
                                       std::int64_t receivedAtMs, std::string text, const std::string& key)
{
    const auto cached = _outgoingStreams.find(peer);
    std::pair<std::string, std::uint64_t> stream =
        cached == _outgoingStreams.end() ? std::make_pair(randomStreamId(), std::uint64_t{0}) : cached->second;
    ++stream.second;
    OutboxEntry entry{peer, 0, stream.first, stream.second, sentTime, text};
    std::pair<local::ChatLine, Conversation> stored;
    commit("queue a line to " + peer, [&] {
        stored = insertLine(local::ChatLine{0, peer, true, self, std::move(sentTime), receivedAtMs, std::move(text),
                                            local::LineState::Pending},
                            false, key);
        entry.lineId = stored.first.id;
        *_session << "INSERT OR REPLACE INTO outgoing_stream (peer, stream, last_seq) VALUES (?, ?, ?)", bind(peer),
            bind(stream.first), bind(toColumn(stream.second)), now;
        *_session << "INSERT INTO outbox (peer, line_id, stream, seq, sent_time, text) VALUES (?, ?, ?, ?, ?, ?)",
            bind(peer), bind(toColumn(entry.lineId)), bind(entry.stream), bind(toColumn(entry.seq)),
            bind(entry.sentTime), bind(entry.text), now;
    });
    _conversations[peer] = stored.second;
    _outgoingStreams[peer] = stream;
    _outbox.push_back(entry);
    return entry;
}

std::optional<local::ChatLine> ConversationStore::lineWithKey(const std::string& peer, const std::string& key) const
{
    Poco::Data::Statement select(*_session);
    select << "SELECT " + kLineColumns + " FROM line WHERE peer = ? AND send_key = ?", bind(peer), bind(key);
    std::vector<local::ChatLine> lines = readLines(select, peer);
    if (lines.empty()) return std::nullopt;
    return std::move(lines.front());
}

std::vector<OutboxEntry> ConversationStore::outbox() const
{
    return _outbox;
}

std::vector<OutboxEntry> ConversationStore::trustKey(const std::string& peer, const KeyPin& keys)
{
    std::pair<std::string, std::uint64_t> stream{randomStreamId(), 0};
    std::vector<OutboxEntry> moved;
    for (const OutboxEntry& entry : _outbox) {
        if (entry.peer != peer) continue;
        moved.push_back(entry);
        moved.back().stream = stream.first;
        moved.back().seq = ++stream.second;
    }
    commit("trust the new key of " + peer, [&] {
        writeKeyPin(peer, keys);
        *_session << "INSERT OR REPLACE INTO outgoing_stream (peer, stream, last_seq) VALUES (?, ?, ?)", bind(peer),
            bind(stream.first), bind(toColumn(stream.second)), now;
        for (const OutboxEntry& entry : moved) {
            *_session << "UPDATE outbox SET stream = ?, seq = ? WHERE peer = ? AND line_id = ?", bind(entry.stream),
                bind(toColumn(entry.seq)), bind(peer), bind(toColumn(entry.lineId)), now;
        }
    });
    _outgoingStreams[peer] = stream;
    auto next = moved.begin();
    for (OutboxEntry& entry : _outbox) {
        if (entry.peer == peer) entry = *next++;
    }
    return moved;
}

std::vector<std::uint64_t> ConversationStore::acknowledge(const std::string& peer, const std::string& stream,
                                                          std::uint64_t seq, local::LineState state)
{
    const auto acked = [&](const OutboxEntry& entry) {
        return entry.peer == peer && entry.stream == stream && entry.seq <= seq;
    };
    std::vector<std::uint64_t> changed;
    for (const OutboxEntry& entry : _outbox) {
        if (acked(entry)) changed.push_back(entry.lineId);
    }
    if (changed.empty()) return changed;
    commit("mark lines to " + peer + " " + stateName(state), [&] {
        for (const std::uint64_t id : changed) {
            *_session << "UPDATE line SET state = ? WHERE peer = ? AND id = ?", bind(stateName(state)), bind(peer),
                bind(toColumn(id)), now;
        }
        *_session << "DELETE FROM outbox WHERE peer = ? AND stream = ? AND seq <= ?", bind(peer), bind(stream),
            bind(toColumn(seq)), now;
    });
    _outbox.erase(std::remove_if(_outbox.begin(), _outbox.end(), acked), _outbox.end());
    return changed;
}

bool ConversationStore::setState(const std::string& peer, std::uint64_t id, local::LineState state)
{
    std::size_t updated = 0;
    commit("change the state of a line to " + peer, [&] {
        Poco::Data::Statement update(*_session);
        update << "UPDATE line SET state = ? WHERE peer = ? AND id = ?", bind(stateName(state)), bind(peer),
            bind(toColumn(id));
        updated = update.execute();
    });
    return updated > 0;
}

std::uint64_t ConversationStore::delivered(const std::string& sender, const std::string& stream) const
{
    const auto it = _incomingStreams.find({sender, stream});
    return it == _incomingStreams.end() ? 0 : it->second;
}

local::ChatLine ConversationStore::deliver(const std::string& sender, const std::string& stream, std::uint64_t seq,
                                           std::string sentTime, std::int64_t receivedAtMs, std::string text)
{
    std::pair<local::ChatLine, Conversation> stored;
    commit("store a line from " + sender, [&] {
        *_session << "INSERT OR REPLACE INTO incoming_stream (sender, stream, delivered) VALUES (?, ?, ?)",
            bind(sender), bind(stream), bind(toColumn(seq)), now;
        stored = insertLine(local::ChatLine{0, sender, false, sender, std::move(sentTime), receivedAtMs,
                                            std::move(text), local::LineState::Received},
                            true);
    });
    _incomingStreams[{sender, stream}] = seq;
    _conversations[sender] = stored.second;
    return stored.first;
}

std::vector<local::ChatLine> ConversationStore::history(const std::string& peer) const
{
    Poco::Data::Statement select(*_session);
    select << "SELECT " + kLineColumns + " FROM line WHERE peer = ? ORDER BY id", bind(peer);
    return readLines(select, peer);
}

std::vector<local::ChatLine> ConversationStore::search(const std::string& peer, const std::string& text,
                                                       std::size_t limit) const
{
    Poco::Data::Statement select(*_session);
    // instr() matches bytewise and case-sensitively, with no pattern characters to escape.
    select << "SELECT " + kLineColumns + " FROM line WHERE peer = ? AND instr(text, ?) > 0 ORDER BY id DESC LIMIT ?",
        bind(peer), bind(text), bind(toColumn(std::min<std::uint64_t>(limit, std::numeric_limits<Poco::Int64>::max())));
    std::vector<local::ChatLine> found = readLines(select, peer);
    std::reverse(found.begin(), found.end());
    return found;
}

std::uint32_t ConversationStore::unread(const std::string& peer) const
{
    const auto it = _conversations.find(peer);
    return it == _conversations.end() ? 0 : it->second.unread;
}

std::map<std::string, std::uint32_t> ConversationStore::unreadCounts() const
{
    std::map<std::string, std::uint32_t> counts;
    for (const auto& [peer, conversation] : _conversations) {
        if (conversation.unread > 0) counts.emplace(peer, conversation.unread);
    }
    return counts;
}

void ConversationStore::markRead(const std::string& peer)
{
    const auto it = _conversations.find(peer);
    if (it == _conversations.end() || it->second.unread == 0) return;
    commit("mark the lines from " + peer + " read", [&] {
        *_session << "UPDATE conversation SET unread = 0 WHERE peer = ?", bind(peer), now;
    });
    it->second.unread = 0;
}

std::map<std::string, KeyPin> ConversationStore::keyPins() const
{
    std::vector<std::string> names;
    std::vector<std::string> pinned;
    std::vector<Poco::Nullable<std::string>> offered;
    std::vector<Poco::Nullable<std::string>> keyless;
    *_session << "SELECT name, pinned, offered, keyless FROM keys", into(names), into(pinned), into(offered),
        into(keyless), now;
    std::map<std::string, KeyPin> keys;
    try {
        for (std::size_t i = 0; i < names.size(); ++i) {
            KeyPin entry{keyColumn(pinned[i], names[i]), std::nullopt, keylessColumn(keyless[i], names[i])};
            if (!offered[i].isNull()) entry.offered = keyColumn(offered[i].value(), names[i]);
            keys.emplace(names[i], entry);
        }
    } catch (const Poco::DataFormatException& e) {
        throw Poco::IOException("cannot read the pinned keys in " + _path + ": " + e.message() +
                                "; move the database aside or pass another --database");
    }
    return keys;
}

void ConversationStore::saveKeyPin(const std::string& name, const KeyPin& keys)
{
    commit("pin the key of " + name, [&] { writeKeyPin(name, keys); });
}

void ConversationStore::writeKeyPin(const std::string& name, const KeyPin& keys)
{
    const Poco::Nullable<std::string> offered =
        keys.offered ? Poco::Nullable<std::string>(Base64::encode(*keys.offered)) : Poco::Nullable<std::string>();
    const Poco::Nullable<std::string> keyless = keylessText(keys.keyless);
    *_session << "INSERT OR REPLACE INTO keys (name, pinned, offered, keyless) VALUES (?, ?, ?, ?)", bind(name),
        bind(Base64::encode(keys.pinned)), bind(offered), bind(keyless), now;
}

std::map<std::string, PublicKey> ConversationStore::indexKeys() const
{
    std::vector<std::string> endpoints;
    std::vector<std::string> texts;
    *_session << "SELECT endpoint, key FROM index_keys", into(endpoints), into(texts), now;
    std::map<std::string, PublicKey> keys;
    try {
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            keys.emplace(endpoints[i], keyColumn(texts[i], "indexd at " + endpoints[i]));
    } catch (const Poco::DataFormatException& e) {
        throw Poco::IOException("cannot read the pinned keys in " + _path + ": " + e.message() +
                                "; move the database aside or pass another --database");
    }
    return keys;
}

void ConversationStore::saveIndexKey(const std::string& indexEndpoint, const PublicKey& key)
{
    commit("pin the key of indexd at " + indexEndpoint, [&] {
        *_session << "INSERT OR REPLACE INTO index_keys (endpoint, key) VALUES (?, ?)", bind(indexEndpoint),
            bind(Base64::encode(key)), now;
    });
}

void ConversationStore::limitPages(std::uint64_t pages)
{
    Poco::Int64 limit = 0;
    *_session << "PRAGMA max_page_count = " + std::to_string(pages), into(limit), now;
}

} // namespace peerchat
