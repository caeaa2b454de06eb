package enquiry_test
import ("github.com/pagedesk/pagedesk/enquiry"; "github.com/pagedesk/pagedesk/channel")
var _ enquiry.Channels = (*channel.Service)(nil)
