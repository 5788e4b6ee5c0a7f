#include "cdicom.h"
