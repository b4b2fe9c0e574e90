#include "LocalProtocol.h"

#include "FlatJson.h"
#include "JsonWriter.h"

#include "Protocol.h"
#include "UserName.h"
#include "Utf8.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <optional>
#include <sstream>

namespace peerchat::local {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

/// A field could not be read; carries the reason to the decoder's catch.
struct FieldError
{
    std::string reason;
};

// The line without its newline, checked as every line is: within 64 KiB,
// valid UTF-8, and an object.
std::string_view checkedLine(std::string_view line)
{
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) throw FieldError{"line is longer than 64 KiB"};
    if (!Utf8::isValid(line)) throw FieldError{"line is not valid UTF-8"};
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] != '{')
        throw FieldError{"line is not a JSON object; send one {...} per line"};
    return line;
}

Object::Ptr parseObject(std::string_view line)
{
    Poco::JSON::Parser parser;
    parser.setDepth(16);
    Poco::Dynamic::Var value;
    try {
        value = parser.parse(std::string(line));
    } catch (const Poco::Exception& e) {
        throw FieldError{"line is not JSON: " + e.message()};
    }
    if (value.type() != typeid(Object::Ptr)) throw FieldError{"line is not a JSON object"};
    auto object = value.extract<Object::Ptr>();
    if (!object) throw FieldError{"line is not a JSON object"};
    return object;
}

bool has(const Object::Ptr& object, const std::string& key)
{
    return object->has(key);
}

bool has(const FlatObject& object, const std::string& key)
{
    return object.find(key) != nullptr;
}

std::string getString(const Object::Ptr& object, const std::string& key)
{
    if (!object->has(key)) throw FieldError{"missing field '" + key + "'"};
    const auto value = object->get(key);
    if (!value.isString()) throw FieldError{"field '" + key + "' must be a string"};
    return value.extract<std::string>();
}

std::string getString(const FlatObject& object, const std::string& key)
{
    const std::string_view* value = object.find(key);
    if (value == nullptr) throw FieldError{"missing field '" + key + "'"};
    return std::string(*value);
}

template <typename Source>
std::string getName(const Source& object, const std::string& key)
{
    std::string name = getString(object, key);
    if (auto why = UserName::check(name); !why.empty()) throw FieldError{"field '" + key + "': " + why};
    return name;
}

std::int64_t getInteger(const Object::Ptr& object, const std::string& key, std::int64_t min, std::int64_t max)
{
    if (!object->has(key)) throw FieldError{"missing field '" + key + "'"};
    const auto value = object->get(key);
    // Poco counts bool as an integer type; JSON true is not a number.
    if (!value.isInteger() || value.isBoolean()) throw FieldError{"field '" + key + "' must be an integer"};
    std::int64_t n = 0;
    try {
        n = value.convert<std::int64_t>();
    } catch (const Poco::Exception&) {
        throw FieldError{"field '" + key + "' is out of range"};
    }
    if (n < min || n > max) throw FieldError{"field '" + key + "' is out of range"};
    return n;
}

bool getBool(const Object::Ptr& object, const std::string& key)
{
    if (!object->has(key)) throw FieldError{"missing field '" + key + "'"};
    const auto value = object->get(key);
    if (value.type() != typeid(bool)) throw FieldError{"field '" + key + "' must be true or false"};
    return value.extract<bool>();
}

Array::Ptr getArray(const Object::Ptr& object, const std::string& key)
{
    auto array = object->getArray(key);
    if (!array) throw FieldError{"field '" + key + "' must be an array"};
    return array;
}

Object::Ptr asObject(const Poco::Dynamic::Var& value, const std::string& what)
{
    if (value.type() != typeid(Object::Ptr)) throw FieldError{what + " must be an object"};
    auto object = value.extract<Object::Ptr>();
    if (!object) throw FieldError{what + " must be an object"};
    return object;
}

LinkState parseLinkState(const std::string& name)
{
    for (auto state : {LinkState::Connecting, LinkState::Online, LinkState::Refused, LinkState::Stopping}) {
        if (LocalProtocol::linkStateName(state) == name) return state;
    }
    throw FieldError{"unknown state '" + name + "'"};
}

LineState parseLineState(const std::string& name)
{
    for (auto state : {LineState::Received, LineState::Sent, LineState::Pending, LineState::Stored,
                       LineState::Delivered, LineState::Failed}) {
        if (LocalProtocol::lineStateName(state) == name) return state;
    }
    throw FieldError{"unknown line state '" + name.substr(0, 32) + "'"};
}

Trust parseTrust(const std::string& name)
{
    for (auto trust : {Trust::Pinned, Trust::Changed, Trust::Unverified}) {
        if (LocalProtocol::trustName(trust) == name) return trust;
    }
    throw FieldError{"unknown trust '" + name.substr(0, 32) + "'"};
}

Path parsePath(const std::string& name)
{
    for (auto path : {Path::None, Path::Lan, Path::Direct, Path::Relay}) {
        if (LocalProtocol::pathName(path) == name) return path;
    }
    throw FieldError{"unknown path '" + name.substr(0, 32) + "'"};
}

Relation parseRelation(const std::string& name)
{
    for (auto relation : {Relation::None, Relation::Asked, Relation::AskedMe, Relation::Contact}) {
        if (LocalProtocol::relationName(relation) == name) return relation;
    }
    throw FieldError{"unknown relation '" + name.substr(0, 32) + "'"};
}

template <typename Source>
PresenceState parsePresenceState(const Source& o)
{
    if (const auto state = presenceStateFromToken(getString(o, "state"))) return *state;
    throw FieldError{"field 'state' must be online, away, busy or invisible"};
}

// The optional status message of a status request (Protocol::checkStatus); empty when absent.
template <typename Source>
std::string optionalStatusText(const Source& o)
{
    if (!has(o, "text")) return {};
    std::string text = getString(o, "text");
    if (auto why = Protocol::checkStatus(text); !why.empty()) throw FieldError{"field 'text': " + why};
    return text;
}

ContactInfo contactFromJson(const Object::Ptr& o)
{
    return ContactInfo{getName(o, "name"), parseRelation(getString(o, "relation")), getBool(o, "blocked"),
                       getString(o, "note"), getInteger(o, "sinceMs", INT64_MIN, INT64_MAX)};
}

// The optional note of an add: at most Protocol::kMaxNoteBytes, no NUL; empty when absent.
template <typename Source>
std::string optionalNote(const Source& o)
{
    if (!has(o, "text")) return {};
    std::string note = getString(o, "text");
    if (note.size() > Protocol::kMaxNoteBytes)
        throw FieldError{"field 'text' is longer than " + std::to_string(Protocol::kMaxNoteBytes) + " bytes"};
    if (note.find('\0') != std::string::npos) throw FieldError{"field 'text' has a NUL character"};
    return note;
}

UserInfo userFromJson(const Object::Ptr& o)
{
    std::string status = getString(o, "status");
    if (auto why = Protocol::checkStatus(status); !why.empty()) throw FieldError{"field 'status': " + why};
    return UserInfo{getName(o, "name"),
                    getString(o, "endpoint"),
                    getString(o, "dialect"),
                    parseTrust(getString(o, "trust")),
                    parsePath(getString(o, "path")),
                    parsePresenceState(o),
                    std::move(status)};
}

// The conversation o names: "group" for a group, else peerField (a user
// name) for a direct chat; never both (docs/PROTOCOL.md).
template <typename Source>
ConversationId getConversation(const Source& o, const std::string& peerField)
{
    if (!has(o, "group")) return ConversationId::direct(getName(o, peerField));
    if (has(o, peerField)) throw FieldError{"fields '" + peerField + "' and 'group' name two conversations"};
    std::string id = getString(o, "group");
    if (!ConversationId::isGroupId(id)) throw FieldError{"field 'group' must be a group id (32 of 0-9 a-f)"};
    return ConversationId::group(std::move(id));
}

// A group's name (GroupMembership::checkTitle) in field "name".
template <typename Source>
std::string checkedGroupName(const Source& o)
{
    std::string name = getString(o, "name");
    if (const std::string why = GroupMembership::checkTitle(name); !why.empty())
        throw FieldError{"field 'name': " + why};
    return name;
}

GroupInfo groupFromJson(const Object::Ptr& o)
{
    GroupInfo group;
    group.id = getString(o, "id");
    if (!ConversationId::isGroupId(group.id)) throw FieldError{"field 'id' must be a group id (32 of 0-9 a-f)"};
    group.name = checkedGroupName(o);
    group.version = static_cast<std::uint64_t>(getInteger(o, "version", 1, INT64_MAX));
    for (const auto& entry : *getArray(o, "members")) {
        const Object::Ptr member = asObject(entry, "member");
        const auto role = groupRoleFromToken(getString(member, "role"));
        if (!role) throw FieldError{"unknown group role"};
        group.members.push_back(GroupMemberInfo{getName(member, "name"), *role});
    }
    group.unread = static_cast<std::uint32_t>(getInteger(o, "unread", 0, UINT32_MAX));
    return group;
}

ChatLine lineFromJson(const Object::Ptr& o)
{
    ChatLine line;
    line.id = static_cast<std::uint64_t>(getInteger(o, "id", 0, INT64_MAX));
    line.conversation = getConversation(o, "peer");
    line.outgoing = getBool(o, "outgoing");
    line.from = getName(o, "from");
    line.sentTime = getString(o, "sentTime");
    line.receivedAtMs = getInteger(o, "receivedAtMs", INT64_MIN, INT64_MAX);
    line.text = getString(o, "text");
    // Optional on the way in, so a line written before states existed still reads.
    if (o->has("state")) line.state = parseLineState(getString(o, "state"));
    else line.state = line.outgoing ? LineState::Sent : LineState::Received;
    if (o->has("verified")) line.verified = getBool(o, "verified");
    return line;
}

template <typename Source>
std::string checkedText(const Source& o)
{
    std::string text = getString(o, "text");
    if (text.empty()) throw FieldError{"field 'text' is empty"};
    if (text.size() > Protocol::kMaxTextBytes) throw FieldError{"field 'text' is longer than 4096 bytes"};
    if (text.find('\0') != std::string::npos) throw FieldError{"field 'text' has a NUL character"};
    return text;
}

// 1 to most characters of A-Z a-z 0-9 - _: a send's key, a request id.
bool isToken(std::string_view token, std::size_t most)
{
    if (token.empty() || token.size() > most) return false;
    return std::all_of(token.begin(), token.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

// The optional token field (a send's "key", a request's "req") of o, at
// most most bytes; empty when absent.
template <typename Source>
std::string optionalToken(const Source& o, const std::string& field, std::size_t most)
{
    if (!has(o, field)) return {};
    std::string token = getString(o, field);
    if (!isToken(token, most)) {
        throw FieldError{"field '" + field + "' must be 1 to " + std::to_string(most) +
                         " characters of A-Z, a-z, 0-9, '-' and '_'"};
    }
    return token;
}

template <typename Source>
std::string optionalSendKey(const Source& o)
{
    return optionalToken(o, "key", kMaxSendKeyBytes);
}

template <typename Source>
std::string optionalRequestId(const Source& o)
{
    return optionalToken(o, "req", kMaxRequestIdBytes);
}

/// The op of each request, as it is written on the socket.
struct OpName
{
    std::string_view operator()(const RosterRequest&) const { return "roster"; }
    std::string_view operator()(const SendRequest&) const { return "send"; }
    std::string_view operator()(const SubscribeRequest&) const { return "subscribe"; }
    std::string_view operator()(const UnsubscribeRequest&) const { return "unsubscribe"; }
    std::string_view operator()(const ReadRequest&) const { return "read"; }
    std::string_view operator()(const SearchRequest&) const { return "search"; }
    std::string_view operator()(const VerifyRequest&) const { return "verify"; }
    std::string_view operator()(const TrustRequest&) const { return "trust"; }
    std::string_view operator()(const ContactRequest& r) const { return LocalProtocol::contactChangeName(r.change); }
    std::string_view operator()(const TypingRequest&) const { return "typing"; }
    std::string_view operator()(const StatusRequest&) const { return "status"; }
    std::string_view operator()(const GroupCreateRequest&) const { return "group-create"; }
};

/// The name of each event, as it is written on the socket.
struct EventName
{
    std::string_view operator()(const WelcomeEvent&) const { return "welcome"; }
    std::string_view operator()(const StateEvent&) const { return "state"; }
    std::string_view operator()(const RosterEvent&) const { return "roster"; }
    std::string_view operator()(const PresenceEvent&) const { return "presence"; }
    std::string_view operator()(const HistoryEvent&) const { return "history"; }
    std::string_view operator()(const MessageEvent&) const { return "message"; }
    std::string_view operator()(const UnreadEvent&) const { return "unread"; }
    std::string_view operator()(const SentEvent&) const { return "sent"; }
    std::string_view operator()(const ErrorEvent&) const { return "error"; }
    std::string_view operator()(const StatusEvent&) const { return "status"; }
    std::string_view operator()(const FoundEvent&) const { return "found"; }
    std::string_view operator()(const KeysEvent&) const { return "keys"; }
    std::string_view operator()(const TrustEvent&) const { return "trust"; }
    std::string_view operator()(const PathEvent&) const { return "path"; }
    std::string_view operator()(const ContactEvent&) const { return "contact"; }
    std::string_view operator()(const TypingEvent&) const { return "typing"; }
    std::string_view operator()(const SelfEvent&) const { return "self"; }
    std::string_view operator()(const GroupEvent&) const { return "group"; }
};

// "key" only for a send that has one.
void writeSendKey(JsonWriter& w, const std::string& key)
{
    if (!key.empty()) w.field("key", key);
}

// conversation's field: peerField ("peer", "to") for a direct chat, "group" for a group.
void writeConversation(JsonWriter& w, const char* peerField, const ConversationId& conversation)
{
    w.field(conversation.isGroup() ? "group" : peerField, conversation.name());
}

/// Writes each request's fields after its "op".
struct RequestWriter
{
    JsonWriter& w;

    void operator()(const RosterRequest&) const {}
    void operator()(const SendRequest& r) const
    {
        writeConversation(w, "to", r.to);
        w.field("text", r.text);
        writeSendKey(w, r.key);
    }
    void operator()(const SubscribeRequest& r) const { writeConversation(w, "peer", r.conversation); }
    void operator()(const UnsubscribeRequest& r) const { writeConversation(w, "peer", r.conversation); }
    void operator()(const ReadRequest& r) const { writeConversation(w, "peer", r.conversation); }
    void operator()(const SearchRequest& r) const
    {
        writeConversation(w, "peer", r.conversation);
        w.field("text", r.text);
    }
    void operator()(const VerifyRequest& r) const { w.field("peer", r.peer); }
    void operator()(const TrustRequest& r) const { w.field("peer", r.peer); }
    void operator()(const ContactRequest& r) const
    {
        w.field("peer", r.peer);
        if (!r.note.empty()) w.field("text", r.note);
    }
    void operator()(const TypingRequest& r) const { w.field("peer", r.peer); }
    void operator()(const StatusRequest& r) const
    {
        w.field("state", presenceStateToken(r.state));
        if (!r.text.empty()) w.field("text", r.text);
    }
    void operator()(const GroupCreateRequest& r) const { w.field("name", r.name); }
};

/// One JSON object line after what out holds: tag first, then the request
/// id when there is one, then what write adds.
template <typename Variant, typename Writer, typename Namer>
void writeTagged(std::string& out, const char* tag, const Variant& variant, std::string_view req)
{
    JsonWriter w(out);
    w.beginObject();
    w.field(tag, std::visit(Namer{}, variant));
    if (!req.empty()) w.field("req", req);
    std::visit(Writer{w}, variant);
    w.endObject();
    w.endLine();
}

void writeUser(JsonWriter& w, const UserInfo& user)
{
    w.beginObject();
    w.field("name", user.name);
    w.field("endpoint", user.endpoint);
    w.field("dialect", user.dialect);
    w.field("trust", LocalProtocol::trustName(user.trust));
    w.field("path", LocalProtocol::pathName(user.path));
    w.field("state", presenceStateToken(user.state));
    w.field("status", user.status);
    w.endObject();
}

void writeContact(JsonWriter& w, const ContactInfo& contact)
{
    w.beginObject();
    w.field("name", contact.name);
    w.field("relation", LocalProtocol::relationName(contact.relation));
    w.field("blocked", contact.blocked);
    w.field("note", contact.note);
    w.field("sinceMs", contact.sinceMs);
    w.endObject();
}

void writeGroup(JsonWriter& w, const GroupInfo& group)
{
    w.beginObject();
    w.field("id", group.id);
    w.field("name", group.name);
    w.field("version", group.version);
    w.key("members");
    w.beginArray();
    for (const GroupMemberInfo& member : group.members) {
        w.beginObject();
        w.field("name", member.name);
        w.field("role", groupRoleToken(member.role));
        w.endObject();
    }
    w.endArray();
    w.field("unread", group.unread);
    w.endObject();
}

void writeLine(JsonWriter& w, const ChatLine& line)
{
    w.beginObject();
    w.field("id", line.id);
    writeConversation(w, "peer", line.conversation);
    w.field("outgoing", line.outgoing);
    w.field("from", line.from);
    w.field("sentTime", line.sentTime);
    w.field("receivedAtMs", line.receivedAtMs);
    w.field("text", line.text);
    w.field("state", LocalProtocol::lineStateName(line.state));
    // Only the exception is written: almost every line is verified.
    if (!line.verified) w.field("verified", false);
    w.endObject();
}

// A message event's fields.
void writeMessage(JsonWriter& w, const ChatLine& line)
{
    w.key("line");
    writeLine(w, line);
}

void writeLines(JsonWriter& w, const std::vector<ChatLine>& lines)
{
    w.key("lines");
    w.beginArray();
    for (const ChatLine& line : lines) writeLine(w, line);
    w.endArray();
}

/// Writes each event's fields after its "event" tag, in the order documented in docs/PROTOCOL.md.
struct EventWriter
{
    JsonWriter& w;

    void operator()(const WelcomeEvent& e) const
    {
        w.field("protocol", e.protocol);
        w.field("self", e.self);
        w.field("state", LocalProtocol::linkStateName(e.state));
        w.field("index", e.index);
        w.field("fingerprint", e.fingerprint);
    }
    void operator()(const StateEvent& e) const
    {
        w.field("state", LocalProtocol::linkStateName(e.state));
        w.field("detail", e.detail);
    }
    void operator()(const RosterEvent& e) const
    {
        w.key("users");
        w.beginArray();
        for (const UserInfo& user : e.users) writeUser(w, user);
        w.endArray();
        w.key("unread");
        w.beginObject();
        for (const auto& [peer, count] : e.unread) w.field(peer, count);
        w.endObject();
        w.key("contacts");
        w.beginArray();
        for (const ContactInfo& contact : e.contacts) writeContact(w, contact);
        w.endArray();
        w.key("held");
        w.beginArray();
        for (const std::string& name : e.held) w.value(name);
        w.endArray();
        w.key("groups");
        w.beginArray();
        for (const GroupInfo& group : e.groups) writeGroup(w, group);
        w.endArray();
    }
    void operator()(const PresenceEvent& e) const
    {
        w.key("user");
        writeUser(w, e.user);
        w.field("online", e.online);
    }
    void operator()(const HistoryEvent& e) const
    {
        writeConversation(w, "peer", e.conversation);
        writeLines(w, e.lines);
    }
    void operator()(const MessageEvent& e) const { writeMessage(w, e.line); }
    void operator()(const UnreadEvent& e) const
    {
        writeConversation(w, "peer", e.conversation);
        w.field("count", e.count);
    }
    void operator()(const SentEvent& e) const
    {
        writeConversation(w, "to", e.to);
        w.field("id", e.id);
        writeSendKey(w, e.key);
    }
    void operator()(const ErrorEvent& e) const
    {
        w.field("op", e.op);
        w.field("message", e.message);
        writeSendKey(w, e.key);
    }
    void operator()(const StatusEvent& e) const
    {
        writeConversation(w, "peer", e.conversation);
        w.field("id", e.id);
        w.field("state", LocalProtocol::lineStateName(e.state));
    }
    void operator()(const FoundEvent& e) const
    {
        writeConversation(w, "peer", e.conversation);
        w.field("text", e.text);
        writeLines(w, e.lines);
    }
    void operator()(const KeysEvent& e) const
    {
        w.field("peer", e.peer);
        w.field("self", e.self);
        w.field("pinned", e.pinned);
        w.field("offered", e.offered);
        w.field("trust", LocalProtocol::trustName(e.trust));
    }
    void operator()(const TrustEvent& e) const
    {
        w.field("peer", e.peer);
        w.field("trust", LocalProtocol::trustName(e.trust));
    }
    void operator()(const PathEvent& e) const
    {
        w.field("peer", e.peer);
        w.field("path", LocalProtocol::pathName(e.path));
    }
    void operator()(const ContactEvent& e) const
    {
        w.key("contact");
        writeContact(w, e.contact);
    }
    void operator()(const TypingEvent& e) const { w.field("peer", e.peer); }
    void operator()(const GroupEvent& e) const
    {
        w.key("group");
        writeGroup(w, e.group);
    }
    void operator()(const SelfEvent& e) const
    {
        w.field("state", presenceStateToken(e.state));
        w.field("text", e.text);
        w.field("away", e.away);
    }
};

template <typename Source>
Request decodeRequestObject(const Source& o)
{
    const std::string op = getString(o, "op");
    if (op == "roster") return RosterRequest{};
    if (op == "send") return SendRequest{getConversation(o, "to"), checkedText(o), optionalSendKey(o)};
    if (op == "subscribe") return SubscribeRequest{getConversation(o, "peer")};
    if (op == "unsubscribe") return UnsubscribeRequest{getConversation(o, "peer")};
    if (op == "read") return ReadRequest{getConversation(o, "peer")};
    if (op == "search") return SearchRequest{getConversation(o, "peer"), checkedText(o)};
    if (op == "verify") return VerifyRequest{getName(o, "peer")};
    if (op == "trust") return TrustRequest{getName(o, "peer")};
    if (op == "typing") return TypingRequest{getName(o, "peer")};
    if (op == "status") return StatusRequest{parsePresenceState(o), optionalStatusText(o)};
    if (op == "group-create") return GroupCreateRequest{checkedGroupName(o)};
    if (op == "add") return ContactRequest{ContactChange::Add, getName(o, "peer"), optionalNote(o)};
    for (auto change : {ContactChange::Accept, ContactChange::Decline, ContactChange::Remove, ContactChange::Block,
                        ContactChange::Unblock}) {
        if (op == LocalProtocol::contactChangeName(change)) return ContactRequest{change, getName(o, "peer")};
    }
    throw FieldError{"unknown op '" + op.substr(0, 32) + "'"};
}

Event decodeEventObject(const Object::Ptr& o)
{
    const std::string event = getString(o, "event");
    if (event == "welcome") {
        return WelcomeEvent{static_cast<int>(getInteger(o, "protocol", 0, 1 << 20)), getName(o, "self"),
                            parseLinkState(getString(o, "state")), getString(o, "index"),
                            getString(o, "fingerprint")};
    }
    if (event == "state") return StateEvent{parseLinkState(getString(o, "state")), getString(o, "detail")};
    if (event == "roster") {
        RosterEvent e;
        for (const auto& user : *getArray(o, "users")) e.users.push_back(userFromJson(asObject(user, "user")));
        auto unread = o->getObject("unread");
        if (!unread) throw FieldError{"field 'unread' must be an object"};
        for (const auto& [peer, count] : *unread) {
            if (!UserName::isValid(peer)) throw FieldError{"unread names an invalid user"};
            if (!count.isInteger() || count.isBoolean()) throw FieldError{"unread counts must be integers"};
            const auto n = count.convert<std::int64_t>();
            if (n < 0 || n > UINT32_MAX) throw FieldError{"unread count out of range"};
            e.unread[peer] = static_cast<std::uint32_t>(n);
        }
        // Absent from a peerd before contacts.
        if (o->has("contacts")) {
            for (const auto& contact : *getArray(o, "contacts"))
                e.contacts.push_back(contactFromJson(asObject(contact, "contact")));
        }
        if (o->has("groups")) {
            for (const auto& group : *getArray(o, "groups"))
                e.groups.push_back(groupFromJson(asObject(group, "group")));
        }
        if (o->has("held")) {
            for (const auto& name : *getArray(o, "held")) {
                if (!name.isString() || !UserName::isValid(name.extract<std::string>()))
                    throw FieldError{"held must hold valid names"};
                e.held.push_back(name.extract<std::string>());
            }
        }
        return e;
    }
    if (event == "presence") {
        auto user = o->getObject("user");
        if (!user) throw FieldError{"field 'user' must be an object"};
        return PresenceEvent{userFromJson(user), getBool(o, "online")};
    }
    if (event == "history") {
        HistoryEvent e;
        e.conversation = getConversation(o, "peer");
        for (const auto& line : *getArray(o, "lines")) e.lines.push_back(lineFromJson(asObject(line, "line")));
        return e;
    }
    if (event == "message") {
        auto line = o->getObject("line");
        if (!line) throw FieldError{"field 'line' must be an object"};
        return MessageEvent{lineFromJson(line)};
    }
    if (event == "unread") {
        return UnreadEvent{getConversation(o, "peer"),
                           static_cast<std::uint32_t>(getInteger(o, "count", 0, UINT32_MAX))};
    }
    if (event == "sent") {
        return SentEvent{getConversation(o, "to"), static_cast<std::uint64_t>(getInteger(o, "id", 0, INT64_MAX)),
                         optionalSendKey(o)};
    }
    if (event == "error") return ErrorEvent{getString(o, "op"), getString(o, "message"), optionalSendKey(o)};
    if (event == "status") {
        return StatusEvent{getConversation(o, "peer"), static_cast<std::uint64_t>(getInteger(o, "id", 0, INT64_MAX)),
                           parseLineState(getString(o, "state"))};
    }
    if (event == "found") {
        FoundEvent e{getConversation(o, "peer"), getString(o, "text"), {}};
        for (const auto& line : *getArray(o, "lines")) e.lines.push_back(lineFromJson(asObject(line, "line")));
        return e;
    }
    if (event == "keys") {
        return KeysEvent{getName(o, "peer"), getString(o, "self"), getString(o, "pinned"), getString(o, "offered"),
                         parseTrust(getString(o, "trust"))};
    }
    if (event == "trust") return TrustEvent{getName(o, "peer"), parseTrust(getString(o, "trust"))};
    if (event == "path") return PathEvent{getName(o, "peer"), parsePath(getString(o, "path"))};
    if (event == "typing") return TypingEvent{getName(o, "peer")};
    if (event == "self") return SelfEvent{parsePresenceState(o), getString(o, "text"), getBool(o, "away")};
    if (event == "group") {
        auto group = o->getObject("group");
        if (!group) throw FieldError{"field 'group' must be an object"};
        return GroupEvent{groupFromJson(group)};
    }
    if (event == "contact") {
        auto contact = o->getObject("contact");
        if (!contact) throw FieldError{"field 'contact' must be an object"};
        return ContactEvent{contactFromJson(contact)};
    }
    throw FieldError{"unknown event '" + event.substr(0, 32) + "'"};
}

template <typename T, typename Decoder>
Parsed<T> decodeLine(std::string_view line, Decoder decoder)
{
    try {
        return decoder(checkedLine(line));
    } catch (const FieldError& e) {
        return Parsed<T>::refuse(e.reason);
    } catch (const Poco::Exception& e) {
        return Parsed<T>::refuse("malformed: " + e.displayText());
    } catch (const std::exception& e) {
        return Parsed<T>::refuse(std::string("malformed: ") + e.what());
    }
}

} // namespace

std::string_view LocalProtocol::opName(const Request& request)
{
    return std::visit(OpName{}, request);
}

std::string LocalProtocol::encodeRequest(const Request& request, std::string_view req)
{
    std::string out;
    writeTagged<Request, RequestWriter, OpName>(out, "op", request, req);
    return out;
}

std::string LocalProtocol::encodeEvent(const Event& event)
{
    std::string out;
    appendEvent(out, event);
    return out;
}

void LocalProtocol::appendEvent(std::string& out, const Event& event, std::string_view req)
{
    writeTagged<Event, EventWriter, EventName>(out, "event", event, req);
}

void LocalProtocol::appendMessage(std::string& out, const ChatLine& line)
{
    JsonWriter w(out);
    w.beginObject();
    w.field("event", EventName{}(MessageEvent{}));
    writeMessage(w, line);
    w.endObject();
    w.endLine();
}

Parsed<Request> LocalProtocol::decodeRequest(std::string_view line)
{
    std::string req;
    return decodeRequest(line, req);
}

Parsed<Request> LocalProtocol::decodeRequest(std::string_view line, std::string& req)
{
    req.clear();
    return decodeLine<Request>(line, [&req](std::string_view text) {
        const auto decode = [&req](const auto& object) {
            req = optionalRequestId(object);
            return decodeRequestObject(object);
        };
        // Nearly every request is an object of strings: the fast reader takes those, the full parser the rest.
        if (const std::optional<FlatObject> flat = FlatJson::parse(text)) return decode(*flat);
        return decode(parseObject(text));
    });
}

Parsed<Event> LocalProtocol::decodeEvent(std::string_view line)
{
    std::string req;
    return decodeEvent(line, req);
}

Parsed<Event> LocalProtocol::decodeEvent(std::string_view line, std::string& req)
{
    req.clear();
    return decodeLine<Event>(line, [&req](std::string_view text) {
        const Object::Ptr object = parseObject(text);
        req = optionalRequestId(object);
        return decodeEventObject(object);
    });
}

bool LocalProtocol::isSendKey(std::string_view key)
{
    return isToken(key, kMaxSendKeyBytes);
}

bool LocalProtocol::isRequestId(std::string_view req)
{
    return isToken(req, kMaxRequestIdBytes);
}

std::string_view LocalProtocol::lineStateName(LineState state)
{
    switch (state) {
    case LineState::Received: return "received";
    case LineState::Sent: return "sent";
    case LineState::Pending: return "pending";
    case LineState::Stored: return "stored";
    case LineState::Delivered: return "delivered";
    case LineState::Failed: return "failed";
    }
    return "received";
}

std::string_view LocalProtocol::relationName(Relation relation)
{
    switch (relation) {
    case Relation::Asked: return "asked";
    case Relation::AskedMe: return "asked-me";
    case Relation::Contact: return "contact";
    case Relation::None: break;
    }
    return "none";
}

std::string_view LocalProtocol::contactChangeName(ContactChange change)
{
    switch (change) {
    case ContactChange::Accept: return "accept";
    case ContactChange::Decline: return "decline";
    case ContactChange::Remove: return "remove";
    case ContactChange::Block: return "block";
    case ContactChange::Unblock: return "unblock";
    case ContactChange::Add: break;
    }
    return "add";
}

std::string_view LocalProtocol::trustName(Trust trust)
{
    switch (trust) {
    case Trust::Pinned: return "pinned";
    case Trust::Changed: return "changed";
    case Trust::Unverified: return "unverified";
    }
    return "pinned";
}

std::string_view LocalProtocol::pathName(Path path)
{
    switch (path) {
    case Path::None: return "none";
    case Path::Lan: return "lan";
    case Path::Direct: return "direct";
    case Path::Relay: return "relay";
    }
    return "none";
}

std::string_view LocalProtocol::linkStateName(LinkState state)
{
    switch (state) {
    case LinkState::Connecting: return "connecting";
    case LinkState::Online: return "online";
    case LinkState::Refused: return "refused";
    case LinkState::Stopping: return "stopping";
    }
    return "connecting";
}

} // namespace peerchat::local
