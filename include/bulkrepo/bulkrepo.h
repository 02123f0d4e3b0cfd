/* bulkrepo — batch import/export engine for research repositories.
 * The public API: include this header, link libbulkrepo. */
#ifndef BULKREPO_H
#define BULKREPO_H

#define BULKREPO_VERSION "0.1.0"

#include "error.h"
#include "limits.h"
#include "record.h"
#include "repo.h"
#include "job.h"
#include "format.h"
#include "saf.h"
#include "import.h"
#include "export.h"
#include "engine.h"
#include "profile.h"
#include "search.h"
#include "set.h"
#include "setjob.h"
#include "relation.h"
#include "doi.h"
#include "normalize.h"
#include "mail.h"
#include "researcher.h"
#include "ftp.h"
#include "migrate.h"

#endif
