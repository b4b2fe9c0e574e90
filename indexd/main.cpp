#include "IndexServer.h"

POCO_SERVER_MAIN(peerchat::IndexServer)
