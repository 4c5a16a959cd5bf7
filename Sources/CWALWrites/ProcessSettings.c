// SQLite's process-wide settings, which it accepts only before it initialises (the first connection
// or VFS lookup does that). Debian's SQLite is built serialized with memory statistics on, so by
// default every call on a connection takes that connection's mutex, and every allocation SQLite
// makes, on any connection and any thread, takes one global mutex to count its bytes. Handover needs
// neither: GRDB and the store use each connection from one thread at a time (SQLite's multi-thread
// mode), and nothing reads SQLite's memory statistics.
#include <pthread.h>
#include <sqlite3.h>

#include "CWALWrites.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int configured = SQLITE_ERROR;

static void configureOnce(void) {
    int threading = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    int statistics = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    configured = threading != SQLITE_OK ? threading : statistics;
}

int handover_sqlite_configure(void) {
    pthread_once(&once, configureOnce);
    return configured;
}
