#include "ChatCommand.h"
#include "TextLayout.h"

#include <cppunit/extensions/HelperMacros.h>

#include <clocale>

using peerchat::chatui::ChatCommand;
using Kind = ChatCommand::Kind;
using peerchat::local::ContactChange;
using peerchat::local::PresenceState;

class ChatCommandTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ChatCommandTest);
    CPPUNIT_TEST(testParsePlainLineIsSent);
    CPPUNIT_TEST(testParseDoubleSlashSendsSlash);
    CPPUNIT_TEST(testParseCommandsWithoutArgument);
    CPPUNIT_TEST(testParseCommandsRefuseArgument);
    CPPUNIT_TEST(testParseSearchTakesTrimmedText);
    CPPUNIT_TEST(testParseVerifyAndTrustTakeOptionalName);
    CPPUNIT_TEST(testParseVerifyAndTrustRefuseBadNames);
    CPPUNIT_TEST(testParseUnknownCommandSaysWhatToType);
    CPPUNIT_TEST(testParseAddTakesNameAndNoteAsTyped);
    CPPUNIT_TEST(testParseAddWithoutNote);
    CPPUNIT_TEST(testParseAddNeedsAValidName);
    CPPUNIT_TEST(testParseAddRefusesLongNote);
    CPPUNIT_TEST(testParseContactCommandsTakeOptionalName);
    CPPUNIT_TEST(testParseContactCommandsRefuseBadNames);
    CPPUNIT_TEST(testContactRequestCarriesNoteOnlyForAdd);
    CPPUNIT_TEST(testParseStatusTakesEveryState);
    CPPUNIT_TEST(testParseStatusTakesMessageAsTyped);
    CPPUNIT_TEST(testParseStatusNeedsAState);
    CPPUNIT_TEST(testParseStatusRefusesUnknownState);
    CPPUNIT_TEST(testParseStatusRefusesLongMessage);
    CPPUNIT_TEST(testIsCommandTellsCommandsFromLines);
    CPPUNIT_TEST(testHelpListsEveryCommand);
    CPPUNIT_TEST(testRosterHelpListsContactCommandsWithName);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { CPPUNIT_ASSERT(std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr); }

    void testParsePlainLineIsSent()
    {
        const auto command = ChatCommand::parse(L"  hello \u5929\u6DAF / not a command ");
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
        CPPUNIT_ASSERT(command->kind == Kind::Send);
        // Sent as typed, spaces included.
        CPPUNIT_ASSERT(command->text == L"  hello \u5929\u6DAF / not a command ");
    }

    void testParseDoubleSlashSendsSlash()
    {
        auto command = ChatCommand::parse(L"//whoami is a command");
        CPPUNIT_ASSERT(command.ok() && command->kind == Kind::Send);
        CPPUNIT_ASSERT(command->text == L"/whoami is a command");
        command = ChatCommand::parse(L"  //x");
        CPPUNIT_ASSERT(command.ok() && command->kind == Kind::Send);
        CPPUNIT_ASSERT(command->text == L"/x");
    }

    void testParseCommandsWithoutArgument()
    {
        for (const auto& [typed, kind] : {std::pair{L"/quit", Kind::Quit}, std::pair{L" /help ", Kind::Help},
                                          std::pair{L"/whoami", Kind::Whoami}}) {
            const auto command = ChatCommand::parse(typed);
            CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
            CPPUNIT_ASSERT(command->kind == kind);
        }
    }

    void testParseCommandsRefuseArgument()
    {
        auto command = ChatCommand::parse(L"/quit now");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("/quit takes nothing after it"), command.error());
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/whoami bob").ok());
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/help me").ok());
        // A command is a whole word: /quitter is not /quit.
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/quitter").ok());
    }

    void testParseSearchTakesTrimmedText()
    {
        auto command = ChatCommand::parse(L"/search   lunch at \u5348  ");
        CPPUNIT_ASSERT(command.ok() && command->kind == Kind::Search);
        CPPUNIT_ASSERT(command->text == L"lunch at \u5348");
        command = ChatCommand::parse(L"/search");
        CPPUNIT_ASSERT(command.ok() && command->kind == Kind::Search);
        CPPUNIT_ASSERT(command->text.empty());
    }

    void testParseVerifyAndTrustTakeOptionalName()
    {
        auto command = ChatCommand::parse(L"/verify \u5929\u6DAF");
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
        CPPUNIT_ASSERT(command->kind == Kind::Verify);
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), command->peer);
        command = ChatCommand::parse(L"/trust  bob ");
        CPPUNIT_ASSERT(command.ok() && command->kind == Kind::Trust);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), command->peer);
        // Without a name: the conversation's peer, which the window fills in.
        command = ChatCommand::parse(L"/verify");
        CPPUNIT_ASSERT(command.ok() && command->kind == Kind::Verify);
        CPPUNIT_ASSERT(command->peer.empty());
        command = ChatCommand::parse(L"/trust");
        CPPUNIT_ASSERT(command.ok() && command->kind == Kind::Trust);
        CPPUNIT_ASSERT(command->peer.empty());
    }

    void testParseVerifyAndTrustRefuseBadNames()
    {
        auto command = ChatCommand::parse(L"/verify bob carol");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.error().find("/verify NAME: 'bob carol' is not a user name") == 0);
        command = ChatCommand::parse(L"/trust a,b");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.error().find("/trust NAME") == 0);
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/trust " + std::wstring(33, L'x')).ok());
    }

    void testParseUnknownCommandSaysWhatToType()
    {
        const auto command = ChatCommand::parse(L"/whois bob");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("unknown command /whois; /help lists the commands, // starts a line with /"),
                             command.error());
    }

    void testParseAddTakesNameAndNoteAsTyped()
    {
        auto command = ChatCommand::parse(L"/add bob hi bob, it's alice; lunch at 12:30?");
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
        CPPUNIT_ASSERT(command->kind == Kind::Contact);
        CPPUNIT_ASSERT(command->change == ContactChange::Add);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), command->peer);
        CPPUNIT_ASSERT(command->text == L"hi bob, it's alice; lunch at 12:30?");
        // Spaces around the name and at the ends go; those inside the note stay.
        command = ChatCommand::parse(L"  /add   \u5929\u6DAF   \u4F60\u597D,   from   alice  ");
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), command->peer);
        CPPUNIT_ASSERT(command->text == L"\u4F60\u597D,   from   alice");
    }

    void testParseAddWithoutNote()
    {
        const auto command = ChatCommand::parse(L"/add bob  ");
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
        CPPUNIT_ASSERT(command->kind == Kind::Contact && command->change == ContactChange::Add);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), command->peer);
        CPPUNIT_ASSERT(command->text.empty());
    }

    void testParseAddNeedsAValidName()
    {
        auto command = ChatCommand::parse(L"/add");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.error().find("/add NAME [note]: say whom to ask") == 0);
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/add   ").ok());
        // A comma makes the first word no name, even with a note after it.
        command = ChatCommand::parse(L"/add bob,carol hi both");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.error().find("/add NAME: 'bob,carol' is not a user name (") == 0);
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/add " + std::wstring(33, L'x') + L" hi").ok());
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/add a:b").ok());
    }

    void testParseAddRefusesLongNote()
    {
        // 85 three-byte characters and one byte: 256, the most a note holds.
        const std::wstring longest = std::wstring(85, L'\u5348') + L"x";
        auto command = ChatCommand::parse(L"/add bob " + longest);
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
        CPPUNIT_ASSERT_EQUAL(std::size_t(256), command->contactRequest("bob").note.size());
        command = ChatCommand::parse(L"/add bob " + longest + L"y");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("the note to bob is 257 bytes; a note holds at most 256"), command.error());
    }

    void testParseContactCommandsTakeOptionalName()
    {
        for (const auto& [typed, change] :
             {std::pair{L"/accept", ContactChange::Accept}, std::pair{L"/decline", ContactChange::Decline},
              std::pair{L"/remove", ContactChange::Remove}, std::pair{L"/block", ContactChange::Block},
              std::pair{L"/unblock", ContactChange::Unblock}}) {
            const std::wstring command(typed);
            auto withName = ChatCommand::parse(command + L"  \u5929\u6DAF ");
            CPPUNIT_ASSERT_MESSAGE(withName.error(), withName.ok());
            CPPUNIT_ASSERT(withName->kind == Kind::Contact);
            CPPUNIT_ASSERT(withName->change == change);
            CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), withName->peer);
            // Without a name: the conversation's peer, which the window fills in.
            auto withoutName = ChatCommand::parse(command);
            CPPUNIT_ASSERT_MESSAGE(withoutName.error(), withoutName.ok());
            CPPUNIT_ASSERT(withoutName->kind == Kind::Contact && withoutName->change == change);
            CPPUNIT_ASSERT(withoutName->peer.empty());
            const auto request = withoutName->contactRequest("bob");
            CPPUNIT_ASSERT(request.change == change);
            CPPUNIT_ASSERT_EQUAL(std::string("bob"), request.peer);
        }
        // A command is a whole word: /blocked is not /block.
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/blocked bob").ok());
    }

    void testParseContactCommandsRefuseBadNames()
    {
        auto command = ChatCommand::parse(L"/block bob carol");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.error().find("/block NAME: 'bob carol' is not a user name (") == 0);
        command = ChatCommand::parse(L"/accept a,b");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.error().find("/accept NAME: 'a,b' is not a user name") == 0);
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/decline a;b").ok());
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/remove " + std::wstring(33, L'x')).ok());
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/unblock a:b").ok());
    }

    void testContactRequestCarriesNoteOnlyForAdd()
    {
        auto request = ChatCommand::parse(L"/add bob see you, then")->contactRequest("bob");
        CPPUNIT_ASSERT(request.change == ContactChange::Add);
        CPPUNIT_ASSERT_EQUAL(std::string("see you, then"), request.note);
        request = ChatCommand::parse(L"/block")->contactRequest("mallory");
        CPPUNIT_ASSERT(request.change == ContactChange::Block);
        CPPUNIT_ASSERT_EQUAL(std::string("mallory"), request.peer);
        CPPUNIT_ASSERT(request.note.empty());
    }

    void testParseStatusTakesEveryState()
    {
        for (const auto& [typed, state] :
             {std::pair{L"/status online", PresenceState::Online}, std::pair{L"/status away", PresenceState::Away},
              std::pair{L" /status  busy ", PresenceState::Busy}, std::pair{L"/status invisible", PresenceState::Invisible},
              std::pair{L"/status Away", PresenceState::Away}}) {
            const auto command = ChatCommand::parse(typed);
            CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
            CPPUNIT_ASSERT(command->kind == Kind::Status);
            CPPUNIT_ASSERT(command->presence == state);
            // Without a message: none, which clears the one set before.
            CPPUNIT_ASSERT(command->text.empty());
            const auto request = command->statusRequest();
            CPPUNIT_ASSERT(request.state == state);
            CPPUNIT_ASSERT(request.text.empty());
        }
        // A state is a whole word.
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/status awayy").ok());
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/statuses away").ok());
    }

    void testParseStatusTakesMessageAsTyped()
    {
        auto command = ChatCommand::parse(L"/status away back at 3");
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
        CPPUNIT_ASSERT(command->presence == PresenceState::Away);
        CPPUNIT_ASSERT(command->text == L"back at 3");
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3"), command->statusRequest().text);
        // Spaces at the ends go; those inside, and commas, stay.
        command = ChatCommand::parse(L"/status  busy   in a meeting,  then lunch, 午饭  ");
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
        CPPUNIT_ASSERT(command->presence == PresenceState::Busy);
        CPPUNIT_ASSERT(command->text == L"in a meeting,  then lunch, 午饭");
        CPPUNIT_ASSERT_EQUAL(std::string("in a meeting,  then lunch, 午饭"), command->statusRequest().text);
    }

    void testParseStatusNeedsAState()
    {
        for (const wchar_t* typed : {L"/status", L"/status   "}) {
            const auto command = ChatCommand::parse(typed);
            CPPUNIT_ASSERT(!command.ok());
            CPPUNIT_ASSERT_EQUAL(std::string("/status STATE [message]: say which state (online, away, busy or "
                                             "invisible), as in /status away back at 3"),
                                 command.error());
        }
    }

    void testParseStatusRefusesUnknownState()
    {
        auto command = ChatCommand::parse(L"/status sleeping until noon");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("/status: 'sleeping' is no state; say online, away, busy or invisible"),
                             command.error());
        // The message alone is no state either.
        command = ChatCommand::parse(L"/status back at 3");
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.error().find("/status: 'back' is no state") == 0);
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/status offline").ok());
    }

    void testParseStatusRefusesLongMessage()
    {
        // Characters, not bytes: 140 CJK characters (420 bytes) are the most a message holds.
        auto command = ChatCommand::parse(L"/status busy " + std::wstring(140, L'午'));
        CPPUNIT_ASSERT_MESSAGE(command.error(), command.ok());
        CPPUNIT_ASSERT_EQUAL(std::size_t(420), command->statusRequest().text.size());
        command = ChatCommand::parse(L"/status away " + std::wstring(141, L'x'));
        CPPUNIT_ASSERT(!command.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("the status message is 141 characters; it holds at most 140. Nothing was set"),
                             command.error());
        // Spaces inside count; those at the ends do not.
        const std::wstring x70 = std::wstring(70, L'x');
        const std::wstring y68 = std::wstring(68, L'y');
        CPPUNIT_ASSERT(ChatCommand::parse(L"/status away " + x70 + L"  " + y68 + L"   ").ok());
        CPPUNIT_ASSERT(!ChatCommand::parse(L"/status away " + x70 + L"   " + y68).ok());
    }

    void testIsCommandTellsCommandsFromLines()
    {
        for (const wchar_t* command : {L"/", L"/st", L"  /status away", L"/whois"})
            CPPUNIT_ASSERT_MESSAGE(peerchat::chatui::TextLayout::narrow(command), ChatCommand::isCommand(command));
        for (const wchar_t* line : {L"", L"   ", L"hello /status", L"//", L" //status is a command", L"午/"})
            CPPUNIT_ASSERT_MESSAGE(peerchat::chatui::TextLayout::narrow(line), !ChatCommand::isCommand(line));
    }

    void testHelpListsEveryCommand()
    {
        std::string help;
        for (const auto& line : ChatCommand::help()) help += line + "\n";
        for (const char* command : {"/search TEXT", "/whoami", "/verify [NAME]", "/trust [NAME]", "/add NAME [note]",
                                    "/accept [NAME]", "/decline [NAME]", "/remove [NAME]", "/block [NAME]",
                                    "/unblock [NAME]", "/status STATE [message]", "/help", "/quit", "//text"})
            CPPUNIT_ASSERT_MESSAGE(command, help.find(command) != std::string::npos);
        // Every command listed parses.
        for (const wchar_t* typed : {L"/search x", L"/whoami", L"/verify", L"/trust", L"/add bob", L"/accept",
                                     L"/decline", L"/remove", L"/block", L"/unblock", L"/status away", L"/help",
                                     L"/quit"})
            CPPUNIT_ASSERT(ChatCommand::parse(typed).ok());
    }

    void testRosterHelpListsContactCommandsWithName()
    {
        std::string help;
        for (const auto& line : ChatCommand::rosterHelp()) help += line + "\n";
        for (const char* command : {"/add NAME [note]", "/accept NAME", "/decline NAME", "/remove NAME", "/block NAME",
                                    "/unblock NAME", "/status STATE [message]", "/help", "/quit", "/whoami"})
            CPPUNIT_ASSERT_MESSAGE(command, help.find(command) != std::string::npos);
        // The roster has no lines to search, nor a peer to default to.
        CPPUNIT_ASSERT(help.find("/search") == std::string::npos);
        CPPUNIT_ASSERT(help.find("[NAME]") == std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChatCommandTest);
