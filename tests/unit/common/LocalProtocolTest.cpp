#include "ByteFuzzer.h"
#include "LocalProtocol.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <string>
#include <vector>

using peerchat::ConversationId;
using namespace peerchat::local;

namespace {

const ConversationId kBob = ConversationId::direct("bob");
const ConversationId kSky = ConversationId::direct("天涯");
const std::string kGroupId = "00112233445566778899aabbccddeeff";

// Text that JSON must escape, and text it must carry as it is.
const std::string kAwkwardText = "say \"hi\" \\ back\\slash\nnew line\r\ttab \x1b[31mred\x1b[0m \x7f \x01 天涯 你好世界 "
                                 "\xF0\x9F\x98\x80 \xE2\x80\xA8 </script> {\"op\":\"send\"}";

Request decodeRequestOk(const std::string& line)
{
    const auto parsed = LocalProtocol::decodeRequest(line);
    CPPUNIT_ASSERT_MESSAGE("refused " + line + ": " + parsed.error(), parsed.ok());
    return *parsed;
}

Event decodeEventOk(const std::string& line)
{
    const auto parsed = LocalProtocol::decodeEvent(line);
    CPPUNIT_ASSERT_MESSAGE("refused " + line + ": " + parsed.error(), parsed.ok());
    return *parsed;
}

void assertRequestRefused(const std::string& line)
{
    const auto parsed = LocalProtocol::decodeRequest(line);
    CPPUNIT_ASSERT_MESSAGE("accepted request " + line, !parsed.ok());
    CPPUNIT_ASSERT_MESSAGE("no reason for refusing " + line, !parsed.error().empty());
}

void assertEventRefused(const std::string& line)
{
    const auto parsed = LocalProtocol::decodeEvent(line);
    CPPUNIT_ASSERT_MESSAGE("accepted event " + line, !parsed.ok());
    CPPUNIT_ASSERT_MESSAGE("no reason for refusing " + line, !parsed.error().empty());
}

// One line: a single '\n', at the end, and no other raw control character.
void assertOneLine(const std::string& line)
{
    CPPUNIT_ASSERT_MESSAGE(line, !line.empty() && line.back() == '\n');
    CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::ptrdiff_t(1), std::count(line.begin(), line.end(), '\n'));
    for (std::size_t i = 0; i + 1 < line.size(); ++i)
        CPPUNIT_ASSERT_MESSAGE(line, static_cast<unsigned char>(line[i]) >= 0x20);
}

template <typename T>
T requestRoundTrip(const T& request)
{
    const std::string line = LocalProtocol::encodeRequest(request);
    assertOneLine(line);
    const Request back = decodeRequestOk(line);
    CPPUNIT_ASSERT_MESSAGE(line, std::holds_alternative<T>(back));
    return std::get<T>(back);
}

template <typename T>
T eventRoundTrip(const T& event)
{
    const std::string line = LocalProtocol::encodeEvent(event);
    assertOneLine(line);
    const Event back = decodeEventOk(line);
    CPPUNIT_ASSERT_MESSAGE(line, std::holds_alternative<T>(back));
    return std::get<T>(back);
}

void assertSameUser(const UserInfo& expected, const UserInfo& actual)
{
    CPPUNIT_ASSERT_EQUAL(expected.name, actual.name);
    CPPUNIT_ASSERT_EQUAL(expected.endpoint, actual.endpoint);
    CPPUNIT_ASSERT_EQUAL(expected.dialect, actual.dialect);
    CPPUNIT_ASSERT(expected.trust == actual.trust);
    CPPUNIT_ASSERT(expected.path == actual.path);
    CPPUNIT_ASSERT(expected.state == actual.state);
    CPPUNIT_ASSERT_EQUAL(expected.status, actual.status);
}

void assertSameLine(const ChatLine& expected, const ChatLine& actual)
{
    CPPUNIT_ASSERT_EQUAL(expected.id, actual.id);
    CPPUNIT_ASSERT_EQUAL(expected.conversation.name(), actual.conversation.name());
    CPPUNIT_ASSERT_EQUAL(expected.outgoing, actual.outgoing);
    CPPUNIT_ASSERT_EQUAL(expected.from, actual.from);
    CPPUNIT_ASSERT_EQUAL(expected.sentTime, actual.sentTime);
    CPPUNIT_ASSERT_EQUAL(expected.receivedAtMs, actual.receivedAtMs);
    CPPUNIT_ASSERT_EQUAL(expected.text, actual.text);
    CPPUNIT_ASSERT(expected.state == actual.state);
    CPPUNIT_ASSERT_EQUAL(expected.verified, actual.verified);
}

ChatLine sampleLine(std::uint64_t id, bool outgoing, const std::string& text)
{
    return ChatLine{id, kSky, outgoing, outgoing ? "alice" : "天涯", "3:04:05 PM", 1795000000000 + static_cast<std::int64_t>(id), text};
}

const std::string kFingerprint = "3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3";
const std::string kOtherFingerprint = "0000 1111 2222 3333 4444 5555 6666 7777";
const std::string kThirdFingerprint = "89ab cdef 0123 4567 89ab cdef 0123 4567";

// A line from a seed peer's plain talk: its sender cannot be verified.
ChatLine unverifiedLine(std::uint64_t id)
{
    ChatLine line = sampleLine(id, false, "plain");
    line.verified = false;
    return line;
}

// A request line padded with an ignored field to exactly `bytes` bytes, newline excluded.
std::string paddedRequest(std::size_t bytes)
{
    const std::string head = R"({"op":"roster","pad":")";
    const std::string tail = "\"}";
    return head + std::string(bytes - head.size() - tail.size(), 'x') + tail;
}

std::vector<Request> sampleRequests()
{
    return {RosterRequest{}, SendRequest{kSky, kAwkwardText}, SendRequest{kBob, "hi", "Zq3_x-9a"},
            SubscribeRequest{kBob}, UnsubscribeRequest{kBob},
            ReadRequest{kSky}, SearchRequest{kBob, "lunch"}, VerifyRequest{"天涯"}, TrustRequest{"bob"},
            ContactRequest{ContactChange::Add, "bob", "hi, it's alice"}, ContactRequest{ContactChange::Block, "天涯"},
            TypingRequest{"bob"}, StatusRequest{PresenceState::Away, "back at 3, 你好"},
            StatusRequest{PresenceState::Invisible}};
}

std::vector<Event> sampleEvents()
{
    return {
        WelcomeEvent{1, "alice", LinkState::Online, "127.0.0.1:5000", kFingerprint},
        StateEvent{LinkState::Refused, "indexd says alice is taken"},
        RosterEvent{{{"bob", "127.0.0.1:5002", "seed", Trust::Unverified},
                     {"天涯", "[::1]:5003", "peerchat/3", Trust::Changed, Path::Lan, PresenceState::Away, "back at 3"}},
                    {{"bob", 2}, {"天涯", 7}}},
        PresenceEvent{{"bob", "127.0.0.1:5002", "dotnet", Trust::Unverified}, true},
        HistoryEvent{kSky, {sampleLine(1, false, "hi"), sampleLine(2, true, kAwkwardText), unverifiedLine(3)}},
        MessageEvent{sampleLine(3, false, "你好")},
        UnreadEvent{kBob, 3},
        SentEvent{kBob, 12},
        SentEvent{kBob, 13, "Zq3_x-9a"},
        ErrorEvent{"send", "bob is not online; wait for them to log in"},
        ErrorEvent{"send", "the disk holding /tmp/alice.db is full; free some space and send again", "Zq3_x-9a"},
        StatusEvent{kBob, 4, LineState::Stored},
        FoundEvent{kBob, "hi", {sampleLine(1, false, "hi")}},
        KeysEvent{"天涯", kFingerprint, kOtherFingerprint, kThirdFingerprint, Trust::Changed},
        TrustEvent{"天涯", Trust::Pinned},
        PathEvent{"天涯", Path::Direct},
        PathEvent{"bob", Path::None},
        RosterEvent{{}, {}, {{"bob", Relation::AskedMe, false, "hi, it's bob", 1700000000000},
                             {"天涯", Relation::Contact, true, "", 5}}, {"erin", "天涯"}},
        ContactEvent{{"bob", Relation::Asked, false, "你好", 1}},
        TypingEvent{"天涯"},
        SelfEvent{PresenceState::Busy, "in a meeting", false},
        SelfEvent{PresenceState::Away, "", true},
    };
}

} // namespace

class LocalProtocolTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LocalProtocolTest);
    CPPUNIT_TEST(testEncodeRequestsExactly);
    CPPUNIT_TEST(testRoundTripRequests);
    CPPUNIT_TEST(testRoundTripAwkwardSendText);
    CPPUNIT_TEST(testEncodeEventsExactly);
    CPPUNIT_TEST(testRoundTripWelcomeAndStateEvents);
    CPPUNIT_TEST(testRoundTripRosterAndPresenceEvents);
    CPPUNIT_TEST(testRoundTripHistoryAndMessageEvents);
    CPPUNIT_TEST(testRoundTripUnreadSentAndErrorEvents);
    CPPUNIT_TEST(testSendKeyIsWrittenOnlyWhenGiven);
    CPPUNIT_TEST(testRoundTripSendKeys);
    CPPUNIT_TEST(testRefuseBadSendKeys);
    CPPUNIT_TEST(testRequestIdWrittenAfterTheTagAndReadBack);
    CPPUNIT_TEST(testRequestIdReadFromARequestRefusedForAnotherField);
    CPPUNIT_TEST(testRefuseBadRequestIds);
    CPPUNIT_TEST(testGroupConversationsNamedByGroupField);
    CPPUNIT_TEST(testRefuseBadGroupConversations);
    CPPUNIT_TEST(testGroupCreateAndGroupEvents);
    CPPUNIT_TEST(testRoundTripLineStatesAndSearch);
    CPPUNIT_TEST(testRoundTripVerifyAndTrust);
    CPPUNIT_TEST(testContactRequestsAndEvents);
    CPPUNIT_TEST(testWriteVerifiedOnlyWhenFalse);
    CPPUNIT_TEST(testEndEveryEncodingWithOneNewline);
    CPPUNIT_TEST(testAcceptLineWithoutNewline);
    CPPUNIT_TEST(testIgnoreUnknownFields);
    CPPUNIT_TEST(testRefuseNonJson);
    CPPUNIT_TEST(testRefuseNonObject);
    CPPUNIT_TEST(testRefuseMissingOp);
    CPPUNIT_TEST(testRefuseUnknownOp);
    CPPUNIT_TEST(testRefuseMissingRequestFields);
    CPPUNIT_TEST(testRefuseWrongRequestFieldTypes);
    CPPUNIT_TEST(testRefuseInvalidNames);
    CPPUNIT_TEST(testLimitSendText);
    CPPUNIT_TEST(testLimitLineTo64KiB);
    CPPUNIT_TEST(testRefuseInvalidUtf8);
    CPPUNIT_TEST(testRefuseMalformedEvents);
    CPPUNIT_TEST(testRefuseWrongEventFieldTypes);
    CPPUNIT_TEST(testSurviveRandomLines);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEncodeRequestsExactly()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("{\"op\":\"roster\"}\n"), LocalProtocol::encodeRequest(RosterRequest{}));
        CPPUNIT_ASSERT_EQUAL(std::string("{\"op\":\"send\",\"to\":\"bob\",\"text\":\"hi\"}\n"),
                             LocalProtocol::encodeRequest(SendRequest{kBob, "hi"}));
        CPPUNIT_ASSERT_EQUAL(std::string("{\"op\":\"subscribe\",\"peer\":\"bob\"}\n"), LocalProtocol::encodeRequest(SubscribeRequest{kBob}));
        CPPUNIT_ASSERT_EQUAL(std::string("{\"op\":\"unsubscribe\",\"peer\":\"bob\"}\n"),
                             LocalProtocol::encodeRequest(UnsubscribeRequest{kBob}));
        CPPUNIT_ASSERT_EQUAL(std::string("{\"op\":\"read\",\"peer\":\"bob\"}\n"), LocalProtocol::encodeRequest(ReadRequest{kBob}));
        CPPUNIT_ASSERT_EQUAL(std::string("{\"op\":\"verify\",\"peer\":\"bob\"}\n"), LocalProtocol::encodeRequest(VerifyRequest{"bob"}));
        CPPUNIT_ASSERT_EQUAL(std::string("{\"op\":\"trust\",\"peer\":\"bob\"}\n"), LocalProtocol::encodeRequest(TrustRequest{"bob"}));
    }

    void testContactRequestsAndEvents()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"op":"add","peer":"bob","text":"hi, it's alice"})" "\n"),
                             LocalProtocol::encodeRequest(ContactRequest{ContactChange::Add, "bob", "hi, it's alice"}));
        for (auto change : {ContactChange::Add, ContactChange::Accept, ContactChange::Decline, ContactChange::Remove,
                            ContactChange::Block, ContactChange::Unblock}) {
            const ContactRequest back = requestRoundTrip(ContactRequest{change, "天涯"});
            CPPUNIT_ASSERT(back.change == change && back.peer == "天涯" && back.note.empty());
        }
        CPPUNIT_ASSERT_EQUAL(std::string("note, with commas"),
                             requestRoundTrip(ContactRequest{ContactChange::Add, "bob", "note, with commas"}).note);
        CPPUNIT_ASSERT(!LocalProtocol::decodeRequest(R"({"op":"add","peer":"bob","text":")" + std::string(257, 'x') + "\"}").ok());
        CPPUNIT_ASSERT(!LocalProtocol::decodeRequest(R"({"op":"accept"})").ok());
        CPPUNIT_ASSERT(!LocalProtocol::decodeRequest(R"({"op":"block","peer":"bo b"})").ok());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), requestRoundTrip(TypingRequest{"bob"}).peer);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"op":"status","state":"away","text":"back at 3"})" "\n"),
                             LocalProtocol::encodeRequest(StatusRequest{PresenceState::Away, "back at 3"}));
        for (auto state : {PresenceState::Online, PresenceState::Away, PresenceState::Busy, PresenceState::Invisible}) {
            CPPUNIT_ASSERT(requestRoundTrip(StatusRequest{state, "x"}).state == state);
            CPPUNIT_ASSERT(eventRoundTrip(SelfEvent{state, "y", true}).state == state);
        }
        std::string longest;
        for (int i = 0; i < 140; ++i) longest += "天";
        CPPUNIT_ASSERT(LocalProtocol::decodeRequest(R"({"op":"status","state":"busy","text":")" + longest + "\"}").ok());
        CPPUNIT_ASSERT(!LocalProtocol::decodeRequest(R"({"op":"status","state":"busy","text":")" + longest + "x\"}").ok());
        CPPUNIT_ASSERT(!LocalProtocol::decodeRequest(R"({"op":"status","state":"dnd"})").ok());
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"contact","contact":{"name":"bob","relation":"asked-me","blocked":false,)"
                                         R"("note":"hi","sinceMs":7}})" "\n"),
                             LocalProtocol::encodeEvent(ContactEvent{{"bob", Relation::AskedMe, false, "hi", 7}}));
        const auto contact = eventRoundTrip(ContactEvent{{"天涯", Relation::Contact, true, "", 9}}).contact;
        CPPUNIT_ASSERT(contact.name == "天涯" && contact.relation == Relation::Contact && contact.blocked);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), eventRoundTrip(TypingEvent{"bob"}).peer);
        // A roster without contacts (a peerd before them) still reads.
        const auto roster = LocalProtocol::decodeEvent(R"({"event":"roster","users":[],"unread":{}})");
        CPPUNIT_ASSERT(roster.ok() && std::get<RosterEvent>(*roster).contacts.empty());
        CPPUNIT_ASSERT((eventRoundTrip(RosterEvent{{}, {}, {}, {"erin", "天涯"}}).held ==
                        std::vector<std::string>{"erin", "天涯"}));
        CPPUNIT_ASSERT(!LocalProtocol::decodeEvent(R"({"event":"roster","users":[],"unread":{},"held":["bo b"]})").ok());
        CPPUNIT_ASSERT(!LocalProtocol::decodeEvent(R"({"event":"contact","contact":{"name":"bob","relation":"friend",)"
                                                   R"("blocked":false,"note":"","sinceMs":0}})").ok());
    }

    void testRoundTripRequests()
    {
        requestRoundTrip(RosterRequest{});
        const SendRequest send = requestRoundTrip(SendRequest{kSky, "你好世界, 天涯"});
        CPPUNIT_ASSERT(send.to == kSky);
        CPPUNIT_ASSERT_EQUAL(std::string("你好世界, 天涯"), send.text);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), requestRoundTrip(SubscribeRequest{kBob}).conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::string("天涯"), requestRoundTrip(UnsubscribeRequest{kSky}).conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), requestRoundTrip(ReadRequest{kBob}).conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::string("天涯"), requestRoundTrip(VerifyRequest{"天涯"}).peer);
        CPPUNIT_ASSERT_EQUAL(std::string("天涯"), requestRoundTrip(TrustRequest{"天涯"}).peer);
    }

    void testRoundTripAwkwardSendText()
    {
        CPPUNIT_ASSERT_EQUAL(kAwkwardText, requestRoundTrip(SendRequest{kBob, kAwkwardText}).text);
        // The same text as a person would type it by hand into socat, with escapes.
        const Request typed = decodeRequestOk(R"({"op":"send","to":"bob","text":"a\"b\\c\nd\u001b\u5929\u6DAF\ud83d\ude00"})");
        CPPUNIT_ASSERT_EQUAL(std::string("a\"b\\c\nd\x1b天涯\xF0\x9F\x98\x80"), std::get<SendRequest>(typed).text);
    }

    void testSendKeyIsWrittenOnlyWhenGiven()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"op":"send","to":"bob","text":"hi","key":"K-1_z"})" "\n"),
                             LocalProtocol::encodeRequest(SendRequest{kBob, "hi", "K-1_z"}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"sent","to":"bob","id":3,"key":"K-1_z"})" "\n"),
                             LocalProtocol::encodeEvent(SentEvent{kBob, 3, "K-1_z"}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"sent","to":"bob","id":3})" "\n"),
                             LocalProtocol::encodeEvent(SentEvent{kBob, 3}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"error","op":"send","message":"no","key":"K"})" "\n"),
                             LocalProtocol::encodeEvent(ErrorEvent{"send", "no", "K"}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"error","op":"send","message":"no"})" "\n"),
                             LocalProtocol::encodeEvent(ErrorEvent{"send", "no"}));
        CPPUNIT_ASSERT_EQUAL(std::string(), std::get<SendRequest>(decodeRequestOk(R"({"op":"send","to":"bob","text":"hi"})")).key);
    }

    void testRoundTripSendKeys()
    {
        const std::string longest(kMaxSendKeyBytes, 'k');
        for (const std::string& key : {std::string("a"), std::string("AZaz09-_"), longest}) {
            CPPUNIT_ASSERT(LocalProtocol::isSendKey(key));
            CPPUNIT_ASSERT_EQUAL(key, requestRoundTrip(SendRequest{kBob, "hi", key}).key);
            CPPUNIT_ASSERT_EQUAL(key, eventRoundTrip(SentEvent{kBob, 1, key}).key);
            CPPUNIT_ASSERT_EQUAL(key, eventRoundTrip(ErrorEvent{"send", "no", key}).key);
        }
    }

    void testRefuseBadSendKeys()
    {
        for (const std::string& key : {std::string(), std::string(kMaxSendKeyBytes + 1, 'k'), std::string("a b"),
                                       std::string("a+b"), std::string("a/b"), std::string("a=b"), std::string("天涯")}) {
            CPPUNIT_ASSERT_MESSAGE(key, !LocalProtocol::isSendKey(key));
            assertRequestRefused(R"({"op":"send","to":"bob","text":"hi","key":")" + key + R"("})");
            assertEventRefused(R"({"event":"sent","to":"bob","id":1,"key":")" + key + R"("})");
        }
        for (const char* value : {"5", "null", "true", R"(["k"])", R"({"k":1})"})
            assertRequestRefused(std::string(R"({"op":"send","to":"bob","text":"hi","key":)") + value + "}");
        const auto refused = LocalProtocol::decodeRequest(R"({"op":"send","to":"bob","text":"hi","key":"a b"})");
        CPPUNIT_ASSERT_EQUAL(std::string("field 'key' must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'"),
                             refused.error());
    }

    void testRequestIdWrittenAfterTheTagAndReadBack()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"op":"roster","req":"r-1"})" "\n"),
                             LocalProtocol::encodeRequest(RosterRequest{}, "r-1"));
        std::string out;
        LocalProtocol::appendEvent(out, SentEvent{kBob, 3, "K"}, "s_2");
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"sent","req":"s_2","to":"bob","id":3,"key":"K"})" "\n"), out);

        std::string req = "stale";
        const auto request = LocalProtocol::decodeRequest(R"({"op":"search","peer":"bob","text":"x","req":"q9"})", req);
        CPPUNIT_ASSERT(request);
        CPPUNIT_ASSERT_EQUAL(std::string("q9"), req);
        CPPUNIT_ASSERT(LocalProtocol::decodeRequest(R"({"op":"roster"})", req));
        CPPUNIT_ASSERT_EQUAL(std::string(), req);
        const auto event = LocalProtocol::decodeEvent(out, req);
        CPPUNIT_ASSERT(event);
        CPPUNIT_ASSERT_EQUAL(std::string("s_2"), req);
        CPPUNIT_ASSERT_EQUAL(std::string("K"), std::get<SentEvent>(*event).key);
        // The full parser's way, for a request with a field that is not a string.
        const auto status = LocalProtocol::decodeRequest(R"({"op":"status","state":"away","req":"st","x":[1]})", req);
        CPPUNIT_ASSERT(status);
        CPPUNIT_ASSERT_EQUAL(std::string("st"), req);
    }

    void testRequestIdReadFromARequestRefusedForAnotherField()
    {
        std::string req;
        const auto refused = LocalProtocol::decodeRequest(R"({"op":"fly","req":"f1"})", req);
        CPPUNIT_ASSERT(!refused);
        CPPUNIT_ASSERT_EQUAL(std::string("f1"), req);
        CPPUNIT_ASSERT(!LocalProtocol::decodeRequest("not json", req));
        CPPUNIT_ASSERT_EQUAL(std::string(), req);
    }

    void testRefuseBadRequestIds()
    {
        for (const std::string& req : {std::string(), std::string(kMaxRequestIdBytes + 1, 'r'), std::string("a b"),
                                       std::string("a\"b"), std::string("天涯")}) {
            CPPUNIT_ASSERT_MESSAGE(req, !LocalProtocol::isRequestId(req));
            std::string read = "stale";
            const auto refused = LocalProtocol::decodeRequest(
                std::string(R"({"op":"roster","req":")") + (req == "a\"b" ? "a\\\"b" : req) + R"("})", read);
            CPPUNIT_ASSERT_MESSAGE(req, !refused);
            CPPUNIT_ASSERT_EQUAL(std::string(), read);
        }
        CPPUNIT_ASSERT(LocalProtocol::isRequestId(std::string(kMaxRequestIdBytes, 'r')));
        for (const char* value : {"5", "null", R"(["r"])"})
            assertRequestRefused(std::string(R"({"op":"roster","req":)") + value + "}");
        assertEventRefused(R"({"event":"sent","req":"a b","to":"bob","id":1})");
    }

    void testGroupConversationsNamedByGroupField()
    {
        const ConversationId group = ConversationId::group(kGroupId);
        CPPUNIT_ASSERT_EQUAL("{\"op\":\"send\",\"group\":\"" + kGroupId + "\",\"text\":\"hi\"}\n",
                             LocalProtocol::encodeRequest(SendRequest{group, "hi"}));
        CPPUNIT_ASSERT(requestRoundTrip(SendRequest{group, "hi"}).to == group);
        CPPUNIT_ASSERT(requestRoundTrip(SubscribeRequest{group}).conversation == group);
        CPPUNIT_ASSERT(requestRoundTrip(UnsubscribeRequest{group}).conversation == group);
        CPPUNIT_ASSERT(requestRoundTrip(ReadRequest{group}).conversation == group);
        CPPUNIT_ASSERT(requestRoundTrip(SearchRequest{group, "x"}).conversation == group);
        ChatLine line = sampleLine(4, false, "hi all");
        line.conversation = group;
        const HistoryEvent history = eventRoundTrip(HistoryEvent{group, {line}});
        CPPUNIT_ASSERT(history.conversation == group);
        CPPUNIT_ASSERT(history.lines.at(0).conversation == group);
        CPPUNIT_ASSERT_EQUAL(std::string::npos, LocalProtocol::encodeEvent(MessageEvent{line}).find("\"peer\""));
        CPPUNIT_ASSERT(eventRoundTrip(UnreadEvent{group, 3}).conversation == group);
        CPPUNIT_ASSERT(eventRoundTrip(SentEvent{group, 9}).to == group);
        CPPUNIT_ASSERT(eventRoundTrip(StatusEvent{group, 9, LineState::Delivered}).conversation == group);
        CPPUNIT_ASSERT(eventRoundTrip(FoundEvent{group, "x", {line}}).conversation == group);
    }

    void testRefuseBadGroupConversations()
    {
        // Both names, a short id, capitals, a number.
        assertRequestRefused(R"({"op":"read","peer":"bob","group":")" + kGroupId + R"("})");
        assertRequestRefused(R"({"op":"send","to":"bob","group":")" + kGroupId + R"(","text":"hi"})");
        assertRequestRefused(R"({"op":"read","group":"0123"})");
        assertRequestRefused(R"({"op":"read","group":"0123456789ABCDEF0123456789abcdef"})");
        assertRequestRefused(R"({"op":"read","group":7})");
        assertEventRefused(R"({"event":"unread","group":"xyz","count":1})");
    }

    void testGroupCreateAndGroupEvents()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("{\"op\":\"group-create\",\"name\":\"天涯 team\"}\n"),
                             LocalProtocol::encodeRequest(GroupCreateRequest{"天涯 team"}));
        CPPUNIT_ASSERT_EQUAL(std::string("天涯 team"), requestRoundTrip(GroupCreateRequest{"天涯 team"}).name);
        assertRequestRefused(R"({"op":"group-create","name":""})");
        assertRequestRefused(R"({"op":"group-create","name":"a\nb"})");
        assertRequestRefused(R"({"op":"group-create"})");
        assertRequestRefused(R"({"op":"group-create","name":")" + std::string(65, 'g') + R"("})");

        const GroupInfo group{kGroupId, "team", 3,
                              {{"alice", peerchat::GroupRole::Owner}, {"bob", peerchat::GroupRole::Invited}}, 4};
        CPPUNIT_ASSERT_EQUAL("{\"event\":\"group\",\"group\":{\"id\":\"" + kGroupId +
                                 "\",\"name\":\"team\",\"version\":3,\"members\":[{\"name\":\"alice\",\"role\":"
                                 "\"owner\"},{\"name\":\"bob\",\"role\":\"invited\"}],\"unread\":4}}\n",
                             LocalProtocol::encodeEvent(GroupEvent{group}));
        const GroupInfo back = eventRoundTrip(GroupEvent{group}).group;
        CPPUNIT_ASSERT_EQUAL(std::string("team"), back.name);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), back.version);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), back.members.size());
        CPPUNIT_ASSERT(back.members[1].role == peerchat::GroupRole::Invited);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(4), back.unread);
        RosterEvent roster;
        roster.groups.push_back(group);
        CPPUNIT_ASSERT_EQUAL(kGroupId, eventRoundTrip(roster).groups.at(0).id);
        assertEventRefused(R"({"event":"group","group":{"id":"x","name":"team","version":1,"members":[],"unread":0}})");
        assertEventRefused(R"({"event":"group","group":{"id":")" + kGroupId +
                           R"(","name":"team","version":1,"members":[{"name":"bob","role":"boss"}],"unread":0}})");
    }

    void testEncodeEventsExactly()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"welcome","protocol":1,"self":"alice","state":"online","index":"127.0.0.1:5000",)"
                                         R"("fingerprint":"3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3"})" "\n"),
                             LocalProtocol::encodeEvent(WelcomeEvent{1, "alice", LinkState::Online, "127.0.0.1:5000", kFingerprint}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"presence","user":{"name":"bob","endpoint":"127.0.0.1:5002","dialect":"seed",)"
                                         R"("trust":"unverified","path":"none","state":"online","status":""},"online":true})" "\n"),
                             LocalProtocol::encodeEvent(PresenceEvent{{"bob", "127.0.0.1:5002", "seed", Trust::Unverified}, true}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"presence","user":{"name":"bob","endpoint":"127.0.0.1:5002",)"
                                         R"("dialect":"peerchat/3","trust":"pinned","path":"direct","state":"busy",)"
                                         R"("status":"in a meeting, \"back\" at 3"},"online":true})" "\n"),
                             LocalProtocol::encodeEvent(PresenceEvent{{"bob", "127.0.0.1:5002", "peerchat/3", Trust::Pinned,
                                                                       Path::Direct, PresenceState::Busy,
                                                                       "in a meeting, \"back\" at 3"},
                                                                      true}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"path","peer":"bob","path":"relay"})" "\n"),
                             LocalProtocol::encodeEvent(PathEvent{"bob", Path::Relay}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"keys","peer":"bob","self":"3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3",)"
                                         R"("pinned":"0000 1111 2222 3333 4444 5555 6666 7777","offered":"","trust":"pinned"})" "\n"),
                             LocalProtocol::encodeEvent(KeysEvent{"bob", kFingerprint, kOtherFingerprint, "", Trust::Pinned}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"trust","peer":"bob","trust":"changed"})" "\n"),
                             LocalProtocol::encodeEvent(TrustEvent{"bob", Trust::Changed}));
        const ChatLine line{1, kBob, false, "bob", "12:00:01", 1795000000000, "hi"};
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":false,"from":"bob",)"
                                         R"("sentTime":"12:00:01","receivedAtMs":1795000000000,"text":"hi","state":"received"}})"
                                         "\n"),
                             LocalProtocol::encodeEvent(MessageEvent{line}));
        std::string appended = "before\n";
        LocalProtocol::appendMessage(appended, line);
        LocalProtocol::appendEvent(appended, UnreadEvent{kBob, 2});
        CPPUNIT_ASSERT_EQUAL("before\n" + LocalProtocol::encodeEvent(MessageEvent{line}) +
                                 LocalProtocol::encodeEvent(UnreadEvent{kBob, 2}),
                             appended);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"unread","peer":"bob","count":2})" "\n"),
                             LocalProtocol::encodeEvent(UnreadEvent{kBob, 2}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"event":"status","peer":"bob","id":3,"state":"delivered"})" "\n"),
                             LocalProtocol::encodeEvent(StatusEvent{kBob, 3, LineState::Delivered}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"op":"search","peer":"bob","text":"lunch"})" "\n"),
                             LocalProtocol::encodeRequest(SearchRequest{kBob, "lunch"}));
    }

    void testRoundTripWelcomeAndStateEvents()
    {
        const WelcomeEvent welcome =
            eventRoundTrip(WelcomeEvent{kProtocolVersion, "天涯", LinkState::Connecting, "[::1]:5000", kFingerprint});
        CPPUNIT_ASSERT_EQUAL(kFingerprint, welcome.fingerprint);
        CPPUNIT_ASSERT_EQUAL(kProtocolVersion, welcome.protocol);
        CPPUNIT_ASSERT_EQUAL(std::string("天涯"), welcome.self);
        CPPUNIT_ASSERT(welcome.state == LinkState::Connecting);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5000"), welcome.index);

        for (LinkState state : {LinkState::Connecting, LinkState::Online, LinkState::Refused, LinkState::Stopping}) {
            const StateEvent back = eventRoundTrip(StateEvent{state, kAwkwardText});
            CPPUNIT_ASSERT(back.state == state);
            CPPUNIT_ASSERT_EQUAL(kAwkwardText, back.detail);
        }
        CPPUNIT_ASSERT_EQUAL(std::string_view("connecting"), LocalProtocol::linkStateName(LinkState::Connecting));
        CPPUNIT_ASSERT_EQUAL(std::string_view("online"), LocalProtocol::linkStateName(LinkState::Online));
        CPPUNIT_ASSERT_EQUAL(std::string_view("refused"), LocalProtocol::linkStateName(LinkState::Refused));
        CPPUNIT_ASSERT_EQUAL(std::string_view("stopping"), LocalProtocol::linkStateName(LinkState::Stopping));
    }

    void testRoundTripRosterAndPresenceEvents()
    {
        const RosterEvent roster{{{"bob", "127.0.0.1:5002", "seed", Trust::Unverified},
                                  {"天涯", "[::1]:5003", "peerchat/3", Trust::Pinned, Path::Lan, PresenceState::Away,
                                   "回来 at 3, 你好"},
                                  {"carol", "[::1]:5004", "peerchat/3", Trust::Changed, Path::Relay,
                                   PresenceState::Busy, ""}},
                                 {{"bob", 2}, {"天涯", 4000000000u}}};
        const RosterEvent back = eventRoundTrip(roster);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), back.users.size());
        for (std::size_t i = 0; i < roster.users.size(); ++i) assertSameUser(roster.users[i], back.users[i]);
        CPPUNIT_ASSERT(back.unread == roster.unread);

        const RosterEvent empty = eventRoundTrip(RosterEvent{});
        CPPUNIT_ASSERT(empty.users.empty() && empty.unread.empty());

        for (bool online : {true, false}) {
            const PresenceEvent presence = eventRoundTrip(PresenceEvent{{"天涯", "[::1]:5003", "dotnet", Trust::Unverified}, online});
            assertSameUser(UserInfo{"天涯", "[::1]:5003", "dotnet", Trust::Unverified}, presence.user);
            CPPUNIT_ASSERT_EQUAL(online, presence.online);
        }
        // Every state another user may show, with a status message of the longest length.
        std::string longest;
        for (std::size_t i = 0; i < peerchat::Protocol::kMaxStatusCharacters; ++i) longest += "天";
        for (const PresenceState state : {PresenceState::Online, PresenceState::Away, PresenceState::Busy}) {
            const UserInfo user{"bob", "127.0.0.1:5002", "peerchat/3", Trust::Pinned, Path::Direct, state, longest};
            assertSameUser(user, eventRoundTrip(PresenceEvent{user, true}).user);
        }
    }

    void testRoundTripHistoryAndMessageEvents()
    {
        const HistoryEvent history{kSky, {sampleLine(1, false, "hi"), sampleLine(2, true, kAwkwardText), sampleLine(3, false, "")}};
        const HistoryEvent back = eventRoundTrip(history);
        CPPUNIT_ASSERT_EQUAL(history.conversation.name(), back.conversation.name());
        CPPUNIT_ASSERT_EQUAL(history.lines.size(), back.lines.size());
        for (std::size_t i = 0; i < history.lines.size(); ++i) assertSameLine(history.lines[i], back.lines[i]);
        CPPUNIT_ASSERT(eventRoundTrip(HistoryEvent{kBob, {}}).lines.empty());

        ChatLine line = sampleLine(9007199254740993ull, true, kAwkwardText);
        line.receivedAtMs = -1;
        assertSameLine(line, eventRoundTrip(MessageEvent{line}).line);
    }

    void testRoundTripLineStatesAndSearch()
    {
        for (auto state : {LineState::Received, LineState::Sent, LineState::Pending, LineState::Stored,
                           LineState::Delivered, LineState::Failed}) {
            ChatLine line = sampleLine(4, true, "hi");
            line.state = state;
            assertSameLine(line, eventRoundTrip(MessageEvent{line}).line);
            const StatusEvent status = eventRoundTrip(StatusEvent{kBob, 4, state});
            CPPUNIT_ASSERT(state == status.state);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), status.id);
        }
        const FoundEvent found = eventRoundTrip(FoundEvent{kSky, "你好", {sampleLine(2, false, "你好 world")}});
        CPPUNIT_ASSERT_EQUAL(std::string("你好"), found.text);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), found.lines.size());
        const auto search = LocalProtocol::decodeRequest(R"({"op":"search","peer":"bob","text":"lunch"})");
        CPPUNIT_ASSERT_MESSAGE(search.error(), search.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("lunch"), std::get<SearchRequest>(*search).text);
        // A line written before line states existed reads with the state its direction implies.
        const auto old = LocalProtocol::decodeEvent(R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":true,)"
                                                    R"("from":"alice","sentTime":"1","receivedAtMs":1,"text":"x"}})");
        CPPUNIT_ASSERT_MESSAGE(old.error(), old.ok());
        CPPUNIT_ASSERT(std::get<MessageEvent>(*old).line.state == LineState::Sent);
        CPPUNIT_ASSERT(!LocalProtocol::decodeEvent(R"({"event":"status","peer":"bob","id":1,"state":"lost"})").ok());
        CPPUNIT_ASSERT(!LocalProtocol::decodeRequest(R"({"op":"search","peer":"bob","text":""})").ok());
    }

    void testRoundTripUnreadSentAndErrorEvents()
    {
        for (std::uint32_t count : {0u, 1u, 4294967295u}) {
            const UnreadEvent unread = eventRoundTrip(UnreadEvent{kSky, count});
            CPPUNIT_ASSERT(unread.conversation == kSky);
            CPPUNIT_ASSERT_EQUAL(count, unread.count);
        }
        const SentEvent sent = eventRoundTrip(SentEvent{kBob, 12345678901ull});
        CPPUNIT_ASSERT(sent.to == kBob);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(12345678901ull), sent.id);

        const ErrorEvent error = eventRoundTrip(ErrorEvent{"", kAwkwardText});
        CPPUNIT_ASSERT_EQUAL(std::string(), error.op);
        CPPUNIT_ASSERT_EQUAL(kAwkwardText, error.message);
    }

    void testRoundTripVerifyAndTrust()
    {
        CPPUNIT_ASSERT_EQUAL(std::string_view("pinned"), LocalProtocol::trustName(Trust::Pinned));
        CPPUNIT_ASSERT_EQUAL(std::string_view("changed"), LocalProtocol::trustName(Trust::Changed));
        CPPUNIT_ASSERT_EQUAL(std::string_view("unverified"), LocalProtocol::trustName(Trust::Unverified));
        for (Trust trust : {Trust::Pinned, Trust::Changed, Trust::Unverified}) {
            const KeysEvent keys = eventRoundTrip(KeysEvent{"天涯", kFingerprint, kOtherFingerprint, kThirdFingerprint, trust});
            CPPUNIT_ASSERT_EQUAL(std::string("天涯"), keys.peer);
            CPPUNIT_ASSERT_EQUAL(kFingerprint, keys.self);
            CPPUNIT_ASSERT_EQUAL(kOtherFingerprint, keys.pinned);
            CPPUNIT_ASSERT_EQUAL(kThirdFingerprint, keys.offered);
            CPPUNIT_ASSERT(keys.trust == trust);
            const TrustEvent event = eventRoundTrip(TrustEvent{"bob", trust});
            CPPUNIT_ASSERT_EQUAL(std::string("bob"), event.peer);
            CPPUNIT_ASSERT(event.trust == trust);
        }
        for (Path path : {Path::None, Path::Lan, Path::Direct, Path::Relay}) {
            CPPUNIT_ASSERT(eventRoundTrip(PathEvent{"bob", path}).path == path);
        }
        assertEventRefused(R"({"event":"path","peer":"bob","path":"turn"})");
        assertEventRefused(R"({"event":"path","peer":"bob"})");
        // Nothing pinned yet, nothing offered: empty fingerprints.
        const KeysEvent none = eventRoundTrip(KeysEvent{"bob", kFingerprint, "", "", Trust::Unverified});
        CPPUNIT_ASSERT(none.pinned.empty() && none.offered.empty());
        const auto verify = LocalProtocol::decodeRequest(R"({"op":"verify","peer":"bob"})");
        CPPUNIT_ASSERT_MESSAGE(verify.error(), verify.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::get<VerifyRequest>(*verify).peer);
        const auto trust = LocalProtocol::decodeRequest(R"({"op":"trust","peer":"bob"})");
        CPPUNIT_ASSERT_MESSAGE(trust.error(), trust.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::get<TrustRequest>(*trust).peer);
    }

    void testWriteVerifiedOnlyWhenFalse()
    {
        const std::string verified = LocalProtocol::encodeEvent(MessageEvent{sampleLine(1, false, "hi")});
        CPPUNIT_ASSERT_MESSAGE(verified, verified.find("verified") == std::string::npos);
        CPPUNIT_ASSERT(std::get<MessageEvent>(decodeEventOk(verified)).line.verified);

        const ChatLine plain = unverifiedLine(2);
        const std::string line = LocalProtocol::encodeEvent(MessageEvent{plain});
        CPPUNIT_ASSERT_MESSAGE(line, line.find(R"("state":"received","verified":false})") != std::string::npos);
        assertSameLine(plain, eventRoundTrip(MessageEvent{plain}).line);
        const HistoryEvent history = eventRoundTrip(HistoryEvent{kSky, {sampleLine(1, false, "hi"), plain}});
        CPPUNIT_ASSERT(history.lines[0].verified);
        CPPUNIT_ASSERT(!history.lines[1].verified);
        // Written true by someone else, it still reads.
        const auto explicitTrue = LocalProtocol::decodeEvent(R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":false,)"
                                                             R"("from":"bob","sentTime":"1","receivedAtMs":1,"text":"x","verified":true}})");
        CPPUNIT_ASSERT_MESSAGE(explicitTrue.error(), explicitTrue.ok());
        CPPUNIT_ASSERT(std::get<MessageEvent>(*explicitTrue).line.verified);
    }

    void testEndEveryEncodingWithOneNewline()
    {
        for (const Request& request : sampleRequests()) assertOneLine(LocalProtocol::encodeRequest(request));
        for (const Event& event : sampleEvents()) assertOneLine(LocalProtocol::encodeEvent(event));
    }

    void testAcceptLineWithoutNewline()
    {
        CPPUNIT_ASSERT(std::holds_alternative<RosterRequest>(decodeRequestOk(R"({"op":"roster"})")));
        CPPUNIT_ASSERT(std::holds_alternative<RosterRequest>(decodeRequestOk("{\"op\":\"roster\"}\n")));
        CPPUNIT_ASSERT(std::holds_alternative<RosterRequest>(decodeRequestOk(R"(  { "op" : "roster" }  )")));
    }

    void testIgnoreUnknownFields()
    {
        const Request r = decodeRequestOk(R"({"op":"send","to":"bob","text":"hi","future":[1,{"a":null}],"n":2.5})");
        CPPUNIT_ASSERT_EQUAL(std::string("hi"), std::get<SendRequest>(r).text);
        CPPUNIT_ASSERT(std::holds_alternative<UnreadEvent>(decodeEventOk(R"({"event":"unread","peer":"bob","count":1,"x":{}})")));
    }

    void testRefuseNonJson()
    {
        for (const std::string line : {"", "\n", "hello", "roster", "{", "{\"op\":", "{'op':'roster'}", "{op:\"roster\"}",
                                       "{\"op\":\"roster\",}", "{\"op\":\"roster\"} trailing", "{\"op\":\"roster\"}{\"op\":\"roster\"}",
                                       "{\"op\":\"send\",\"to\":\"bob\",\"text\":\"a\nb\"}", "{\"op\":\"send\",\"to\":\"bob\",\"text\":\"\\ud800\"}"})
            assertRequestRefused(line);
        assertRequestRefused(std::string(100, '[') + std::string(100, ']'));
    }

    void testRefuseNonObject()
    {
        for (const std::string line : {"[]", "[{\"op\":\"roster\"}]", "42", "\"roster\"", "null", "true"}) {
            assertRequestRefused(line);
            assertEventRefused(line);
            CPPUNIT_ASSERT_EQUAL(std::string("line is not a JSON object; send one {...} per line"),
                                 LocalProtocol::decodeRequest(line).error());
        }
    }

    void testRefuseMissingOp()
    {
        for (const std::string line : {"{}", R"({"to":"bob","text":"hi"})", R"({"event":"welcome"})", R"({"OP":"roster"})"})
            assertRequestRefused(line);
    }

    void testRefuseUnknownOp()
    {
        for (const std::string line : {R"({"op":"fly"})", R"({"op":"ROSTER"})", R"({"op":""})", R"({"op":"roster "})",
                                       R"({"op":"welcome"})"})
            assertRequestRefused(line);
    }

    void testRefuseMissingRequestFields()
    {
        for (const std::string line : {R"({"op":"send","to":"bob"})", R"({"op":"send","text":"hi"})", R"({"op":"subscribe"})",
                                       R"({"op":"unsubscribe"})", R"({"op":"read"})", R"({"op":"read","to":"bob"})",
                                       R"({"op":"verify"})", R"({"op":"trust"})", R"({"op":"trust","to":"bob"})",
                                       R"({"op":"verify","peer":5})", R"({"op":"trust","peer":null})"})
            assertRequestRefused(line);
    }

    void testRefuseWrongRequestFieldTypes()
    {
        for (const std::string line : {R"({"op":5})", R"({"op":null})", R"({"op":["roster"]})", R"({"op":{"name":"roster"}})",
                                       R"({"op":"send","to":5,"text":"hi"})", R"({"op":"send","to":["bob"],"text":"hi"})",
                                       R"({"op":"send","to":"bob","text":5})", R"({"op":"send","to":"bob","text":null})",
                                       R"({"op":"send","to":"bob","text":{"a":"hi"}})", R"({"op":"send","to":"bob","text":true})",
                                       R"({"op":"subscribe","peer":true})", R"({"op":"read","peer":null})",
                                       R"({"op":"unsubscribe","peer":1})"})
            assertRequestRefused(line);
    }

    void testRefuseInvalidNames()
    {
        for (const std::string name : {"", "a b", "a,b", "a;b", "a:b", "\\u0000", "\\u001b", "\\u3000", "\\u00a0x", "\\u0085",
                                       "天\\u2003涯"}) {
            assertRequestRefused(R"({"op":"send","to":")" + name + R"(","text":"hi"})");
            assertRequestRefused(R"({"op":"subscribe","peer":")" + name + R"("})");
            assertRequestRefused(R"({"op":"unsubscribe","peer":")" + name + R"("})");
            assertRequestRefused(R"({"op":"read","peer":")" + name + R"("})");
            assertRequestRefused(R"({"op":"verify","peer":")" + name + R"("})");
            assertRequestRefused(R"({"op":"trust","peer":")" + name + R"("})");
        }
        assertRequestRefused(R"({"op":"subscribe","peer":")" + std::string(33, 'a') + R"("})");
        decodeRequestOk(R"({"op":"subscribe","peer":")" + std::string(32, 'a') + R"("})");
    }

    void testLimitSendText()
    {
        assertRequestRefused(R"({"op":"send","to":"bob","text":""})");
        assertRequestRefused(R"({"op":"send","to":"bob","text":"a\u0000b"})");
        const std::string longest(4096, 'x');
        CPPUNIT_ASSERT_EQUAL(longest, requestRoundTrip(SendRequest{kBob, longest}).text);
        assertRequestRefused(LocalProtocol::encodeRequest(SendRequest{kBob, longest + "x"}));
        // The limit is in bytes of UTF-8, not in characters or JSON escapes.
        std::string cjk;
        while (cjk.size() + 3 <= 4096) cjk += "天";
        CPPUNIT_ASSERT_EQUAL(cjk, requestRoundTrip(SendRequest{kBob, cjk}).text);
        assertRequestRefused(LocalProtocol::encodeRequest(SendRequest{kBob, cjk + "涯"}));
        std::string escaped;
        for (int i = 0; i < 4096; ++i) escaped += "\\u0041";
        CPPUNIT_ASSERT_EQUAL(std::string(4096, 'A'),
                             std::get<SendRequest>(decodeRequestOk(R"({"op":"send","to":"bob","text":")" + escaped + "\"}")).text);
    }

    void testLimitLineTo64KiB()
    {
        CPPUNIT_ASSERT_EQUAL(std::size_t(65536), kMaxLineBytes);
        decodeRequestOk(paddedRequest(kMaxLineBytes));
        decodeRequestOk(paddedRequest(kMaxLineBytes) + "\n");
        assertRequestRefused(paddedRequest(kMaxLineBytes + 1));
        assertRequestRefused(paddedRequest(kMaxLineBytes + 1) + "\n");
        assertRequestRefused(paddedRequest(10 * kMaxLineBytes));
        const std::string event = R"({"event":"unread","peer":"bob","count":1,"pad":")";
        assertEventRefused(event + std::string(kMaxLineBytes, 'x') + "\"}");
    }

    void testRefuseInvalidUtf8()
    {
        for (const std::string line : {"{\"op\":\"send\",\"to\":\"bob\",\"text\":\"\xFF\"}",
                                       "{\"op\":\"send\",\"to\":\"bob\",\"text\":\"\xED\xA0\x80\"}",
                                       "{\"op\":\"send\",\"to\":\"bob\",\"text\":\"\xE5\xA4\"}",
                                       "{\"op\":\"subscribe\",\"peer\":\"\xC0\xAF\"}", "{\"op\":\"roster\",\"x\":\"\x80\"}",
                                       "{\"op\":\"roster\"}\xFF"})
            assertRequestRefused(line);
        assertEventRefused("{\"event\":\"error\",\"op\":\"\",\"message\":\"\xC3\"}");
    }

    void testRefuseMalformedEvents()
    {
        for (const std::string line : {
                 R"({})", R"({"op":"roster"})", R"({"event":"party"})", R"({"event":"welcome","protocol":1,"self":"alice","state":"online"})",
                 R"({"event":"welcome","protocol":1,"self":"a b","state":"online","index":"x"})",
                 R"({"event":"state","state":"offline","detail":""})", R"({"event":"state","detail":""})",
                 R"({"event":"roster","users":[]})", R"({"event":"roster","unread":{}})",
                 R"({"event":"roster","users":[{"name":"bob","endpoint":"x"}],"unread":{}})",
                 R"({"event":"roster","users":[],"unread":{"a b":1}})", R"({"event":"presence","online":true})",
                 R"({"event":"presence","user":{"name":"","endpoint":"x","dialect":"seed"},"online":true})",
                 R"({"event":"history","peer":"bob"})", R"({"event":"history","lines":[]})",
                 R"({"event":"history","peer":"bob","lines":[{"id":1}]})", R"({"event":"message"})",
                 R"({"event":"unread","peer":"bob"})", R"({"event":"sent","to":"bob"})", R"({"event":"error","op":"send"})",
                 R"({"event":"welcome","protocol":1,"self":"alice","state":"online","index":"x"})",
                 R"({"event":"presence","user":{"name":"bob","endpoint":"x","dialect":"seed"},"online":true})",
                 R"({"event":"presence","user":{"name":"bob","endpoint":"x","dialect":"seed","trust":"trusted"},"online":true})",
                 R"({"event":"presence","user":{"name":"bob","endpoint":"x","dialect":"seed","trust":"Pinned"},"online":true})",
                 R"({"event":"roster","users":[{"name":"bob","endpoint":"x","dialect":"seed"}],"unread":{}})",
                 R"({"event":"keys","peer":"bob","self":"a","pinned":"b","offered":"c"})",
                 R"({"event":"keys","peer":"bob","self":"a","pinned":"b","trust":"pinned"})",
                 R"({"event":"keys","self":"a","pinned":"b","offered":"c","trust":"pinned"})",
                 R"({"event":"keys","peer":"a b","self":"a","pinned":"b","offered":"c","trust":"pinned"})",
                 R"({"event":"keys","peer":"bob","self":"a","pinned":"b","offered":"c","trust":"lost"})",
                 R"({"event":"trust","peer":"bob"})", R"({"event":"trust","trust":"pinned"})",
                 R"({"event":"trust","peer":"bob","trust":""})", R"({"event":"trust","peer":"","trust":"pinned"})"})
            assertEventRefused(line);
        // A user's state and status message are required, and checked like the wire's.
        const std::string user = R"({"event":"presence","online":true,"user":{"name":"bob","endpoint":"x","dialect":"seed",)"
                                 R"("trust":"pinned","path":"none")";
        decodeEventOk(user + R"(,"state":"away","status":"back at 3"}})");
        std::string tooLong;
        for (std::size_t i = 0; i <= peerchat::Protocol::kMaxStatusCharacters; ++i) tooLong += "x";
        for (const std::string& rest : {std::string("}}"), std::string(R"(,"state":"away"}})"),
                                       std::string(R"(,"status":""}})"), std::string(R"(,"state":"dnd","status":""}})"),
                                       std::string(R"(,"state":"Away","status":""}})"),
                                       R"(,"state":"away","status":")" + tooLong + R"("}})",
                                       std::string(R"(,"state":"away","status":"abell"}})"),
                                       std::string(R"(,"state":"away","status":5}})")})
            assertEventRefused(user + rest);
    }

    void testRefuseWrongEventFieldTypes()
    {
        const std::string line = R"("line":{"id":1,"peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi"})";
        decodeEventOk(R"({"event":"message",)" + line + "}");
        for (const std::string bad : {
                 R"({"event":5})", R"({"event":"message","line":"hi"})", R"({"event":"message","line":[1]})",
                 R"({"event":"message","line":{"id":"1","peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi"}})",
                 R"({"event":"message","line":{"id":true,"peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi"}})",
                 R"({"event":"message","line":{"id":-1,"peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi"}})",
                 R"({"event":"message","line":{"id":1.5,"peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi"}})",
                 R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":"false","from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi"}})",
                 R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":0,"from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi"}})",
                 R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":false,"from":"bob","sentTime":1,"receivedAtMs":5,"text":"hi"}})",
                 R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":false,"text":"hi"}})",
                 R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":5,"text":null}})",
                 R"({"event":"welcome","protocol":"1","self":"alice","state":"online","index":"x"})",
                 R"({"event":"welcome","protocol":true,"self":"alice","state":"online","index":"x"})",
                 R"({"event":"roster","users":{},"unread":{}})", R"({"event":"roster","users":["bob"],"unread":{}})",
                 R"({"event":"roster","users":[],"unread":[]})", R"({"event":"roster","users":[],"unread":{"bob":"2"}})",
                 R"({"event":"roster","users":[],"unread":{"bob":true}})", R"({"event":"roster","users":[],"unread":{"bob":-1}})",
                 R"({"event":"roster","users":[],"unread":{"bob":4294967296}})", R"({"event":"roster","users":[],"unread":{"bob":1.5}})",
                 R"({"event":"presence","user":"bob","online":true})", R"({"event":"presence","user":{"name":"bob","endpoint":"x","dialect":"seed"},"online":"yes"})",
                 R"({"event":"history","peer":"bob","lines":{}})", R"({"event":"history","peer":"bob","lines":["hi"]})",
                 R"({"event":"unread","peer":"bob","count":-1})", R"({"event":"unread","peer":"bob","count":4294967296})",
                 R"({"event":"unread","peer":"bob","count":true})", R"({"event":"sent","to":"bob","id":"12"})",
                 R"({"event":"sent","to":"bob","id":false})", R"({"event":"sent","to":"bob","id":18446744073709551615})",
                 R"({"event":"error","op":null,"message":"x"})",
                 R"({"event":"welcome","protocol":1,"self":"alice","state":"online","index":"x","fingerprint":5})",
                 R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi","verified":"no"}})",
                 R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi","verified":0}})",
                 R"({"event":"message","line":{"id":1,"peer":"bob","outgoing":false,"from":"bob","sentTime":"1","receivedAtMs":5,"text":"hi","verified":null}})",
                 R"({"event":"trust","peer":"bob","trust":1})", R"({"event":"trust","peer":"bob","trust":["pinned"]})",
                 R"({"event":"keys","peer":"bob","self":1,"pinned":"b","offered":"c","trust":"pinned"})",
                 R"({"event":"keys","peer":"bob","self":"a","pinned":null,"offered":"c","trust":"pinned"})",
                 R"({"event":"presence","user":{"name":"bob","endpoint":"x","dialect":"seed","trust":true},"online":true})"})
            assertEventRefused(bad);
    }

    void testSurviveRandomLines()
    {
        std::vector<std::string> corpus;
        for (const Request& request : sampleRequests()) corpus.push_back(LocalProtocol::encodeRequest(request));
        for (const Event& event : sampleEvents()) corpus.push_back(LocalProtocol::encodeEvent(event));
        peerchat::test::ByteFuzzer fuzzer(77031, {"{", "}", "[", "]", ":", ",", "\"", "\\", "\\u", "\\ud83d", "\\u0000", "true",
                                                  "null", "-1", "1e999", "18446744073709551616", "\"op\"", "\"event\"",
                                                  "\"send\"", "\"to\"", "\"text\"", "\"peer\"", "\"bob\"", "天涯", "\xFF",
                                                  "\"verify\"", "\"trust\"", "\"keys\"", "\"pinned\"", "\"changed\"",
                                                  "\"unverified\"", "\"verified\"", "false", "\"fingerprint\""});
        std::size_t accepted = 0;
        for (int i = 0; i < 20000; ++i) {
            const std::string line = i % 2 == 0 ? fuzzer.randomBytes(24) : fuzzer.mutate(corpus[fuzzer.below(corpus.size())]);
            const auto request = LocalProtocol::decodeRequest(line);
            if (request.ok()) {
                ++accepted;
                const std::string again = LocalProtocol::encodeRequest(*request);
                const auto back = LocalProtocol::decodeRequest(again);
                CPPUNIT_ASSERT_MESSAGE(again + back.error(), back.ok());
                CPPUNIT_ASSERT_EQUAL(again, LocalProtocol::encodeRequest(*back));
            } else {
                CPPUNIT_ASSERT(!request.error().empty());
            }
            const auto event = LocalProtocol::decodeEvent(line);
            if (event.ok()) {
                ++accepted;
                const std::string again = LocalProtocol::encodeEvent(*event);
                const auto back = LocalProtocol::decodeEvent(again);
                CPPUNIT_ASSERT_MESSAGE(again + back.error(), back.ok());
                CPPUNIT_ASSERT_EQUAL(again, LocalProtocol::encodeEvent(*back));
            } else {
                CPPUNIT_ASSERT(!event.error().empty());
            }
        }
        CPPUNIT_ASSERT_MESSAGE(std::to_string(accepted) + " accepted", accepted > 200);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LocalProtocolTest);
