#ifndef CDICOM_H
#define CDICOM_H
#endif
