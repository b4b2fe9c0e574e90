#include "PeerDaemon.h"

POCO_SERVER_MAIN(peerchat::PeerDaemon)
