#include "ChatCommand.h"

#include <cppunit/extensions/HelperMacros.h>

#include <clocale>

using peerchat::chatui::ChatCommand;
using Kind = ChatCommand::Kind;

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
    CPPUNIT_TEST(testHelpListsEveryCommand);
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

    void testHelpListsEveryCommand()
    {
        std::string help;
        for (const auto& line : ChatCommand::help()) help += line + "\n";
        for (const char* command : {"/search TEXT", "/whoami", "/verify [NAME]", "/trust [NAME]", "/help", "/quit", "//text"})
            CPPUNIT_ASSERT_MESSAGE(command, help.find(command) != std::string::npos);
        // Every command listed parses.
        for (const wchar_t* typed : {L"/search x", L"/whoami", L"/verify", L"/trust", L"/help", L"/quit"})
            CPPUNIT_ASSERT(ChatCommand::parse(typed).ok());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChatCommandTest);
