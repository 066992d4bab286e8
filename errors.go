package mediarecorder

// DOMException is the error type of the MediaRecorder API, like the
// WebIDL DOMException: Name is the spec's error name ("InvalidStateError",
// "NotSupportedError", ...) and Message says what went wrong.
//
// errors.Is(err, ErrInvalidState) holds for every *DOMException whose Name is
// "InvalidStateError", and likewise for the other Err* values.
type DOMException struct {
	Name    string
	Message string

	cause error // what went wrong underneath, if anything (Unwrap)
}

// Error returns "Name: Message".
func (e *DOMException) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Name + ": " + e.Message
}

// Unwrap returns the error underneath, if any: a full disk's
// syscall.ENOSPC, a write's *fs.PathError, and so on, so that
// errors.Is(err, syscall.ENOSPC) holds for the UnknownError it caused.
func (e *DOMException) Unwrap() error { return e.cause }

// Is reports whether target is a *DOMException with the same Name, so that
// errors.Is(err, ErrNotSupported) matches any NotSupportedError.
func (e *DOMException) Is(target error) bool {
	t, ok := target.(*DOMException)
	return ok && t.Name == e.Name
}

// The DOMException names the recorder raises.
const (
	NameInvalidState        = "InvalidStateError"
	NameNotSupported        = "NotSupportedError"
	NameSecurity            = "SecurityError"
	NameInvalidModification = "InvalidModificationError"
	NameUnknown             = "UnknownError"
)

// Sentinel errors, one per DOMException name; compare with errors.Is.
var (
	ErrInvalidState        error = &DOMException{Name: NameInvalidState}
	ErrNotSupported        error = &DOMException{Name: NameNotSupported}
	ErrSecurity            error = &DOMException{Name: NameSecurity}
	ErrInvalidModification error = &DOMException{Name: NameInvalidModification}
	ErrUnknown             error = &DOMException{Name: NameUnknown}
)

func domErr(name, msg string) *DOMException { return &DOMException{Name: name, Message: msg} }

// domErrCause is an exception of name whose message is cause's, keeping
// cause for Unwrap.
func domErrCause(name string, cause error) *DOMException {
	return &DOMException{Name: name, Message: cause.Error(), cause: cause}
}
