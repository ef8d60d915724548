/* refcal: an empty library that no program loads, for probe_secondary's refcount action
 * (it is dlopen()ed three times to find where glibc keeps a reference count). */
int dpmp_refcal_marker(void);

int dpmp_refcal_marker(void)
{
	return 42;
}
