package demo

// ivrTexts are the IVR service's default phrases (internal/ivr's
// NoInputText and NoMatchText defaults); TestDemoPromptsCurrent in
// internal/node checks that they still match the service's.
var ivrTexts = []string{
	"Sorry, I did not hear anything.",
	"Sorry, that is not a valid entry.",
}
