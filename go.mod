module github.com/gomediarecorder/mediarecorder

go 1.26
