#include "IndexServer.h"

// POCO_SERVER_MAIN reports an escaping exception on std::cerr.
#include <iostream>

POCO_SERVER_MAIN(peerchat::IndexServer)
