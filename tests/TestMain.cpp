// Runs every registered CppUnit suite, or only the one named on the command
// line, printing each test as it runs and a closing "N passed, N failed" line.
#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/Test.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/extensions/TestFactoryRegistry.h>

#include <csignal>
#include <iostream>
#include <memory>

int main(int argc, char** argv)
{
    // A test that writes to a closed socket must see EPIPE, not die.
    std::signal(SIGPIPE, SIG_IGN);

    // Owns every suite; a named one is run where it stands in the tree.
    const std::unique_ptr<CppUnit::Test> all(CppUnit::TestFactoryRegistry::getRegistry().makeTest());
    CppUnit::Test* selected = all.get();
    if (argc > 1) {
        try {
            selected = all->findTest(argv[1]);
        } catch (const std::exception&) {
            std::cerr << "no test suite named '" << argv[1] << "'\n";
            return 2;
        }
    }

    CppUnit::TestResult controller;
    CppUnit::TestResultCollector collector;
    CppUnit::BriefTestProgressListener progress;
    controller.addListener(&collector);
    controller.addListener(&progress);

    controller.runTest(selected);

    CppUnit::CompilerOutputter(&collector, std::cerr).write();
    const int failed = collector.testFailuresTotal();
    const int run = collector.runTests();
    std::cout << (argc > 1 ? argv[1] : "tests") << ": " << (run - failed) << " passed, " << failed << " failed"
              << std::endl;
    return collector.wasSuccessful() ? 0 : 1;
}
