/* SPDX-License-Identifier: MIT */
/* Console output through SIMPLE_TEXT_OUTPUT (UEFI 2.9, 12.4 "Simple Text Output Protocol"). */
#include "boot.h"

#include <nestvisor/string.h>
#include <stdarg.h>

EFI_SYSTEM_TABLE *nv_st;
EFI_BOOT_SERVICES *nv_bs;
static uint32_t con_level = NV_LOG_INFO;

void nv_con_init(EFI_SYSTEM_TABLE *st)
{
	nv_st = st;
	nv_bs = st->BootServices;
}

void nv_con_set_level(uint32_t level)
{
	con_level = level;
}

/* ASCII to UCS-2, "\n" as "\r\n"; bytes above 0x7e become '?'. */
static void put_line(const char *prefix, const char *msg)
{
	CHAR16 out[640];
	size_t k = 0;

	for (int pass = 0; pass < 3; pass++) {
		const char *s = pass == 0 ? "nestvisor-boot: " : pass == 1 ? prefix : msg;

		for (; *s && k + 3 < sizeof(out) / sizeof(out[0]); s++) {
			unsigned char c = (unsigned char)*s;

			if (c == '\n')
				out[k++] = L'\r';
			out[k++] = (c == '\n' || (c >= 0x20 && c < 0x7f)) ? c : L'?';
		}
	}
	out[k++] = L'\r';
	out[k++] = L'\n';
	out[k] = 0;
	if (nv_st && nv_st->ConOut)
		uefi_call_wrapper(nv_st->ConOut->OutputString, 2, nv_st->ConOut, out);
}

void nv_log(uint32_t level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level > con_level)
		return;
	va_start(ap, fmt);
	nv_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_line("", msg);
}

void nv_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	nv_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_line("error: ", msg);
}

/* UEFI 2.9, Appendix D "Status Codes". */
const char *nv_efi_status_name(EFI_STATUS status)
{
	static const char *const errors[] = {
		[1] = "EFI_LOAD_ERROR", [2] = "EFI_INVALID_PARAMETER", [3] = "EFI_UNSUPPORTED",
		[4] = "EFI_BAD_BUFFER_SIZE", [5] = "EFI_BUFFER_TOO_SMALL", [6] = "EFI_NOT_READY",
		[7] = "EFI_DEVICE_ERROR", [8] = "EFI_WRITE_PROTECTED", [9] = "EFI_OUT_OF_RESOURCES",
		[10] = "EFI_VOLUME_CORRUPTED", [11] = "EFI_VOLUME_FULL", [12] = "EFI_NO_MEDIA",
		[13] = "EFI_MEDIA_CHANGED", [14] = "EFI_NOT_FOUND", [15] = "EFI_ACCESS_DENIED",
		[16] = "EFI_NO_RESPONSE", [17] = "EFI_NO_MAPPING", [18] = "EFI_TIMEOUT",
		[19] = "EFI_NOT_STARTED", [20] = "EFI_ALREADY_STARTED", [21] = "EFI_ABORTED",
		[22] = "EFI_ICMP_ERROR", [23] = "EFI_TFTP_ERROR", [24] = "EFI_PROTOCOL_ERROR",
		[25] = "EFI_INCOMPATIBLE_VERSION", [26] = "EFI_SECURITY_VIOLATION",
		[27] = "EFI_CRC_ERROR", [28] = "EFI_END_OF_MEDIA", [31] = "EFI_END_OF_FILE",
		[32] = "EFI_INVALID_LANGUAGE", [33] = "EFI_COMPROMISED_DATA",
	};
	static char other[32];
	uint64_t code = (uint64_t)status & ~(1ULL << 63);

	if (status == EFI_SUCCESS)
		return "EFI_SUCCESS";
	if (((uint64_t)status >> 63) && code < sizeof(errors) / sizeof(errors[0]) && errors[code])
		return errors[code];
	nv_snprintf(other, sizeof(other), "EFI status 0x%llx", (unsigned long long)status);
	return other;
}

void nv_ucs2_to_ascii(const CHAR16 *s, char *out, size_t size)
{
	size_t k = 0;

	for (; s && *s && k + 1 < size; s++)
		out[k++] = (*s >= 0x20 && *s < 0x7f) ? (char)*s : '?';
	if (size)
		out[k] = '\0';
}
